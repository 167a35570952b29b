# A stub of an OpenWrt SDK's rules.mk, for tests/host/openwrt.test.ts: just
# the variables openwrt/Makefile uses, with a Debian cross compiler in place
# of the SDK's toolchain and the CPU flags of OpenWrt's ramips/mt7621 target
# (less -msoft-float, which Debian's hard-float mipsel libc cannot link, and
# -fhonour-copts, which only OpenWrt's patched gcc knows). It is not
# OpenWrt: no musl, no ipk packaging, no dependency resolution.
TARGET_CC ?= mipsel-linux-gnu-gcc
TARGET_CFLAGS ?= -Os -pipe -mno-branch-likely -mips32r2 -mtune=24kc -fno-caller-saves -fno-plt
TARGET_CPPFLAGS ?=
# Static, so that qemu-user runs it without a target sysroot (an SDK links
# against its musl dynamically).
TARGET_LDFLAGS ?= -static
INCLUDE_DIR := $(TOPDIR)/include
BUILD_DIR ?= $(TOPDIR)/build_dir
PKG_INSTALL_ROOT ?= $(TOPDIR)/root
CP := cp -fpR
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_DATA := install -m0644
