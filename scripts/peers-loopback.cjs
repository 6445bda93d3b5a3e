// peers-loopback.cjs: keeps a Node server on 127.0.0.1.
//
// Load it with `node --require /abs/path/peers-loopback.cjs ...` (or through
// NODE_OPTIONS). Several MCP peers the tests run (server-everything, the
// conformance suite's servers) call listen(port) with no host, which binds
// every interface; tests here must listen on loopback only.
//
// It wraps net.Server.prototype._listen2, the step of listen() that creates
// and binds the socket (Node keeps that name "to avoid breaking code that
// wraps this method"), and turns an unspecified or wildcard address into
// 127.0.0.1. Rewriting listen()'s arguments instead would add a host, and a
// host sends listen() through an asynchronous DNS lookup: callers that read
// server.address().port right after listen() would then get null. Here a
// host-less listen() stays synchronous. Unix sockets and inherited file
// descriptors pass through untouched.
'use strict';

const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const WILDCARD = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

const listen2 = net.Server.prototype._listen2;
if (typeof listen2 !== 'function') {
  throw new Error('peers-loopback: this Node has no net.Server.prototype._listen2 to wrap');
}

net.Server.prototype._listen2 = function loopbackListen2(address, port, addressType, backlog, fd, flags) {
  const tcp = typeof fd !== 'number' && (port !== undefined && port !== null && port !== -1);
  if (tcp && (!address || WILDCARD.has(address))) {
    address = LOOPBACK;
    addressType = 4;
  }
  return listen2.call(this, address, port, addressType, backlog, fd, flags);
};
