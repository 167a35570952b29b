// `npm run bench [-- --json] [-- --e2e] [-- --xdp]`: the module benchmark by
// default, the end-to-end namespace benchmark (kernel routing vs kernel NAT44
// vs our CE + BR) with --e2e, AF_XDP against TUN (bench/xdp.ts) with --xdp.
const argv = process.argv.slice(2);

if (argv.includes("--xdp")) {
  const { xdpMain } = await import("./xdp.js");
  await xdpMain(argv);
} else if (argv.includes("--e2e")) {
  const { e2eMain } = await import("./e2e.js");
  await e2eMain(argv);
} else {
  await import("./bench.js");
}
