// `npm run bench [-- --json] [-- --e2e]`: the module benchmark by default,
// the end-to-end namespace benchmark (kernel routing vs kernel NAT44 vs our
// CE + BR) with --e2e.
const argv = process.argv.slice(2);

if (argv.includes("--e2e")) {
  const { runE2eBench } = await import("./e2e.js");
  const at = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const r = await runE2eBench({
    json: argv.includes("--json"),
    seconds: at("--seconds") ? Number(at("--seconds")) : undefined,
    preset: at("--preset"),
  });
  process.exitCode = r.unavailable ? 0 : r.rows.some((x) => x.errors.length) ? 1 : 0;
} else {
  await import("./bench.js");
}
