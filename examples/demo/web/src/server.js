// The demo's web server on :3000.
require('http').createServer((req, res) => res.end('the web says 42\n'))
  .listen(3000, () => console.log('listening on :3000'));
