# The Linux TUN addon (see native/tun.c). Built explicitly by
# `npm run build:native` (node-gyp rebuild --directory native --nodedir=/usr);
# the result is native/build/Release/tun.node.
{
  "targets": [
    {
      "target_name": "tun",
      "sources": ["tun.c", "tunio.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
