# A stub of OpenWrt's include/package.mk: BuildPackage expands the package's
# Build/Prepare, Build/Compile and Package/<name>/install the way OpenWrt's
# does — inside $(call BuildPackage) whose result goes through $(eval), so
# a shell variable in a recipe is written $$$$ there as in a real SDK — into
# three targets: prepare, compile (after prepare) and install (after compile).
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)

define Build/DefaultTargets
  $(PKG_BUILD_DIR)/.prepared:
	@-rm -rf $(PKG_BUILD_DIR)
	@mkdir -p $(PKG_BUILD_DIR)
	$(Build/Prepare)
	touch $$@

  $(PKG_BUILD_DIR)/.built: $(PKG_BUILD_DIR)/.prepared
	$(Build/Compile)
	touch $$@

  prepare: $(PKG_BUILD_DIR)/.prepared
  compile: $(PKG_BUILD_DIR)/.built
  install: compile
	rm -rf $(PKG_INSTALL_ROOT)
	mkdir -p $(PKG_INSTALL_ROOT)
	$(call Package/$(1)/install,$(PKG_INSTALL_ROOT))
endef

define BuildPackage
  $(eval $(Package/$(1)))
  $(foreach FIELD, TITLE CATEGORY SECTION DEPENDS,
    ifeq ($($(FIELD)),)
      $$(error Package/$(1) is missing the $(FIELD) field)
    endif
  )
  $(call Build/DefaultTargets,$(1))
endef

.PHONY: prepare compile install
