# A minimal token service for the registry tests (distribution's token
# auth): GET /token?service=..&scope=.. with Basic user:secret returns a
# JWT signed RS256 by KEY, carrying the signing certificate in x5c (the
# registry checks it against its rootcertbundle). Prints nothing; writes
# its port to PORT_FILE once listening.
# usage: token_server.py KEY CERT_DER PORT_FILE
import base64, json, subprocess, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs

key, cert_der, port_file = sys.argv[1:4]
x5c = base64.b64encode(open(cert_der, 'rb').read()).decode()
expected = 'Basic ' + base64.b64encode(b'user:secret').decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def token(service, scopes):
    access = []
    for scope in scopes:
        kind, rest = scope.split(':', 1)
        name, actions = rest.rsplit(':', 1)
        access.append({'type': kind, 'name': name, 'actions': actions.split(',')})
    now = int(time.time())
    claims = {'iss': 'mason-test', 'sub': 'user', 'aud': service, 'exp': now + 300,
              'nbf': now - 10, 'iat': now, 'jti': str(time.time_ns()), 'access': access}
    header = {'typ': 'JWT', 'alg': 'RS256', 'x5c': [x5c]}
    signing = b64url(json.dumps(header).encode()) + '.' + b64url(json.dumps(claims).encode())
    sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', key], input=signing.encode(),
                         capture_output=True, check=True).stdout
    return signing + '.' + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get('Authorization', '') != expected:
            self.send_response(401)
            self.end_headers()
            return
        query = parse_qs(urlparse(self.path).query)
        body = json.dumps({'token': token(query.get('service', [''])[0],
                                          query.get('scope', [])),
                           'expires_in': 300}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = HTTPServer(('127.0.0.1', 0), Handler)
with open(port_file + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
