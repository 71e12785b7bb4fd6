// The ceiling: bare node:http answering a fixed small JSON to a small JSON POST.
import { createServer } from 'node:http';

const answer = Buffer.from(JSON.stringify({ object: 'machine_to_machine_token', id: 'mt_0123456789abcdef0123456789abcdef', revoked: false }));
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
