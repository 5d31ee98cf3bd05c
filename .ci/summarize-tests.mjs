// Sums every workspace's vitest JSON report into one closing line: "tests: N passed, N failed".
import { existsSync, readFileSync, readdirSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const group of ['apps', 'packages']) {
  for (const name of readdirSync(group)) {
    const report = `${group}/${name}/.vitest-report.json`;
    if (!existsSync(report)) continue;
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
  }
}
console.log(`tests: ${passed} passed, ${failed} failed`);
