// contracts/build.js OUT_DIR SOLC_DIR: compiles contracts/*.sol with the pinned
// solc-js (npm `solc`, scripts/setup.sh) into OUT_DIR: <Name>.bin (creation
// code, hex) and <Name>.abi (JSON) per contract. Optimizer on, 200 runs,
// EVM version cancun (what anvil runs). Any error or warning fails the build.
'use strict';
const fs = require('fs');
const path = require('path');
const [outDir, solcDir] = process.argv.slice(2);
if (!outDir || !solcDir) {
  console.error('usage: node build.js OUT_DIR SOLC_DIR');
  process.exit(2);
}
const solc = require(path.resolve(solcDir));
// contracts/test/*.sol: contracts only the chain tests deploy (test hooks).
const sources = {};
for (const dir of ['', 'test']) {
  const d = path.join(__dirname, dir);
  for (const f of fs.readdirSync(d).filter((f) => f.endsWith('.sol')).sort())
    sources[path.posix.join(dir, f)] = { content: fs.readFileSync(path.join(d, f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const problems = (out.errors || []);
for (const e of problems) console.error(e.formattedMessage);
if (problems.length) process.exit(1);
fs.mkdirSync(outDir, { recursive: true });
for (const file of Object.keys(out.contracts))
  for (const [name, c] of Object.entries(out.contracts[file])) {
    if (!c.evm.bytecode.object) continue; // an interface
    fs.writeFileSync(path.join(outDir, name + '.bin'), c.evm.bytecode.object + '\n');
    fs.writeFileSync(path.join(outDir, name + '.abi'), JSON.stringify(c.abi) + '\n');
  }
console.log('solc ' + solc.version() + ': ' + Object.keys(sources).length + ' files into ' + outDir);
