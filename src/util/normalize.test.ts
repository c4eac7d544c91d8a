import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeDnsName, normalizePath, MAX_TEMPLATE_LENGTH } from './normalize.ts';

test('path templates: ids become :id, everything else is kept', () => {
  const table: [string, string][] = [
    ['/api/products/42', '/api/products/:id'],
    ['/api/products/43', '/api/products/:id'],
    ['/api/products/42/reviews/7', '/api/products/:id/reviews/:id'],
    ['/users/123e4567-e89b-12d3-a456-426614174000', '/users/:id'],
    ['/users/123E4567-E89B-12D3-A456-426614174000/avatar', '/users/:id/avatar'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/:id'], // Mongo ObjectId (24 hex)
    ['/commits/da39a3ee5e6b4b0d3255bfef95601890afd80709', '/commits/:id'], // SHA-1
    ['/trace/4bf92f3577b34da6a3ce929d0e0e4736', '/trace/:id'], // W3C trace id
    ['/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/orders/:id'], // ULID
    ['/cafe/deadbeef', '/cafe/deadbeef'], // short hex: a word, kept
    ['/hex/0123456789abcde', '/hex/0123456789abcde'], // 15 hex digits: kept
    ['/hex/0123456789abcdef', '/hex/:id'], // 16: an id
    ['/api/v1/items', '/api/v1/items'],
    ['/api/v2/items/9', '/api/v2/items/:id'],
    ['/user-42-profile', '/user-42-profile'],
    ['/a-very-long-readable-slug-of-words', '/a-very-long-readable-slug-of-words'],
    ['/abcdefghijklmnopqrstuvwxyz', '/abcdefghijklmnopqrstuvwxyz'], // letters only: kept
    ['/search?q=1&page=2', '/search'],
    ['/page#section', '/page'],
    ['/cart;jsessionid=ABC123/items/5', '/cart/items/:id'],
    ['/', '/'],
    ['', '/'],
    ['?x=1', '/'],
    ['/static/app.123.js', '/static/app.123.js'],
    ['/files/2024/01/05/report.pdf', '/files/:id/:id/:id/report.pdf'],
    ['/a//b/', '/a//b/'],
    ['*', '*'],
    ['example.com:443', 'example.com:443'], // CONNECT authority-form
  ];
  for (const [path, want] of table) assert.equal(normalizePath(path), want, path);
});

test('path templates are bounded', () => {
  const long = '/x'.repeat(1000);
  const t = normalizePath(long);
  assert.equal(t.length, MAX_TEMPLATE_LENGTH);
  assert.ok(t.endsWith('…'));
});

test('DNS names: lower case, no trailing dot', () => {
  assert.equal(normalizeDnsName('Example.COM.'), 'example.com');
  assert.equal(normalizeDnsName('example.com'), 'example.com');
  assert.equal(normalizeDnsName('.'), '.');
});
