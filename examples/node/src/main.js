// The runtime: uses a dependency from node_modules (copied from the
// builder stage) and the build output in dist/.
const isNumber = require("is-number");
console.log(`hello from node ${process.version}, shipped without the build tools (is-number(42): ${isNumber(42)})`);
