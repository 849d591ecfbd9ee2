console.log(`hello from node ${process.version}, shipped without the build tools`);
