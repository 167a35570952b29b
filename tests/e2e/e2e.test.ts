// Runs every end-to-end case folder (tests/e2e/cases/<name>/) through the
// Node CLI, `node bin/mape.js pcap` (the comparison is tests/e2e/suite.ts,
// shared with the router program's run in tests/router/pcap.test.ts), and
// checks the folders are what generate.ts makes from cases.ts now.
import { NODE_HOST, checkCaseFolders, e2eSuite } from "./suite.js";

checkCaseFolders();
e2eSuite(NODE_HOST);
