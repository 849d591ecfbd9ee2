// The "build": copies src/ to dist/ (stands in for a compiler such as tsc).
const fs = require("fs");
fs.mkdirSync("dist", { recursive: true });
for (const f of fs.readdirSync("src")) fs.copyFileSync(`src/${f}`, `dist/${f}`);
console.log("built", fs.readdirSync("dist").join(", "));
