import Fastify from 'fastify';
const app = Fastify({ logger: false });
const answer = Buffer.from(JSON.stringify({ object: 'machine_to_machine_token', id: 'mt_0123456789abcdef0123456789abcdef', revoked: false }));
app.post('/m2m_tokens/verify', async (req, reply) => reply.header('content-type', 'application/json').send(answer));
await app.listen({ port: 7660, host: '127.0.0.1' });
console.log('Tessera listening on http://127.0.0.1:7660');
