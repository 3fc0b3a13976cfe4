// Self-tests of conformance/run_newman.js: how it prepares Microsoft's collection
// and how it reports a failure. Node's own test runner, no newman needed:
//   node --test conformance/tests/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const runner = require('../run_newman.js');

function quietly(fn) {
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    return fn();
  } finally {
    process.stdout.write = write;
  }
}

test('the SCIM URL becomes the collection variables', () => {
  assert.deepEqual(runner.collectionVariables('http://127.0.0.1:8080/scim/v2/acme/', 'tok'), {
    Protocol: 'http',
    Server: '127.0.0.1',
    Port: ':8080',
    Api: 'scim/v2/acme',
    token: 'tok',
  });
});

test('a URL on the default port gives an empty Port', () => {
  const variables = runner.collectionVariables('https://scim.example.com/scim/v2/acme', 'tok');
  assert.equal(variables.Port, '');
  assert.equal(variables.Protocol, 'https');
});

test('only the login folder is dropped and the original is left alone', () => {
  const collection = {
    info: { name: 'SCIM Tests' },
    item: [
      { name: runner.LOGIN_FOLDER, item: [{ name: 'Get Token' }] },
      { name: 'User tests', item: [] },
      { name: 'Get all users', request: {} },
    ],
    variable: [{ key: 'Port', value: ':1' }, { key: 'other', value: 'kept' }],
  };
  const prepared = quietly(() => runner.prepareCollection(collection, { Port: ':8080', token: 't' }));
  assert.deepEqual(prepared.item.map((item) => item.name), ['User tests', 'Get all users']);
  assert.equal(collection.item.length, 3);
  const variables = Object.fromEntries(prepared.variable.map((v) => [v.key, v.value]));
  assert.deepEqual(variables, { other: 'kept', Port: ':8080', token: 't' });
});

test('a failure is reported with the request as sent and the response received', () => {
  const exchanges = runner.exchangeRecorder();
  const item = { id: 'item-1', name: 'Get user1' };
  exchanges.record({
    item,
    request: { method: 'GET', url: { toString: () => 'http://127.0.0.1:1/scim/v2/t/Users/9' } },
    response: { code: 404, status: 'Not Found', text: () => '{"status":"404"}' },
  });
  const text = runner.describeFailure(
    {
      source: item,
      parent: { name: 'User tests' },
      error: { test: 'Status code is 200', message: 'expected 200 but got 404' },
    },
    exchanges,
  );
  assert.match(text, /^User tests \/ Get user1: assertion 'Status code is 200': expected 200 but got 404/);
  assert.match(text, /request: +GET http:\/\/127\.0\.0\.1:1\/scim\/v2\/t\/Users\/9/);
  assert.match(text, /got: +404 Not Found \{"status":"404"\}/);
});

test('a long response body is cut in the report', () => {
  const exchanges = runner.exchangeRecorder();
  const item = { id: 'item-2', name: 'Get all users' };
  exchanges.record({
    item,
    request: { method: 'GET', url: { toString: () => 'u' } },
    response: { code: 200, status: 'OK', text: () => 'x'.repeat(5000) },
  });
  const text = runner.describeFailure({ source: item, error: { message: 'm' } }, exchanges);
  assert.ok(text.length < 1000, `report is ${text.length} characters`);
  assert.match(text, /\(5000 chars\)/);
});
