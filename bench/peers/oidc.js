// The peer: node-oidc-provider with one client, client_credentials and RFC 7662 introspection.
import Provider from 'oidc-provider';

const CLIENT = { id: 'bench-client', secret: 'bench-client-secret-0123456789abcdef' };
const provider = new Provider('http://127.0.0.1', {
  clients: [
    {
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    devInteractions: { enabled: false },
  },
});
// Quiet: the library warns about development defaults (keys, cookies) on every start.
provider.on('server_error', () => {});
const server = provider.listen(0, '127.0.0.1');
server.on('listening', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
