#!/usr/bin/env node
// Runs Microsoft's "SCIM Tests" Postman collection (from AzureAD/SCIMReferenceCode)
// against one live, EMPTY scimd tenant with newman, and fails on any failed request
// or assertion.
//
// The collection is read from the path given and changed in memory only, never on
// disk: its "Get Token" folder calls a login endpoint that only Microsoft's sample
// server has, so it is dropped and the tenant's bearer token is passed directly.
// The collection's requests are built from the variables Protocol, Server, Port
// (with its leading ':'), Api (the SCIM base path without its leading '/') and
// token, which are set as collection variables from the tenant's SCIM URL.
//
// Usage:
//   SCIM_URL=http://127.0.0.1:8080/scim/v2/acme SCIM_TOKEN=... \
//     node run_newman.js --collection PATH [--folder NAME]...
//   (--token-file FILE reads the token from a file instead of $SCIM_TOKEN)
//
// Exit codes: 0 every assertion passed, 1 something failed, 2 the run could not start.
'use strict';

const fs = require('fs');

// The folder that logs in to Microsoft's sample server; scimd uses bearer tokens
// issued by `scimd tenant create` / `scimd token create` instead.
const LOGIN_FOLDER = 'Get Token';
// Milliseconds one request may take before newman counts it as failed.
const REQUEST_TIMEOUT_MS = 30000;
// Milliseconds the whole collection may take; it normally runs in seconds.
const RUN_TIMEOUT_MS = 10 * 60 * 1000;

function usage(message) {
  process.stderr.write(`run_newman: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { collection: null, url: process.env.SCIM_URL || null, tokenFile: null, folders: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--collection' && value) {
      args.collection = value;
    } else if (flag === '--url' && value) {
      args.url = value;
    } else if (flag === '--token-file' && value) {
      args.tokenFile = value;
    } else if (flag === '--folder' && value) {
      args.folders.push(value);
    } else {
      usage(`unknown or incomplete argument '${flag}'`);
    }
    i += 1;
  }
  if (!args.collection) usage('--collection PATH is required');
  if (!args.url) usage('no SCIM URL (--url or $SCIM_URL)');
  return args;
}

function readToken(args) {
  const token = args.tokenFile
    ? fs.readFileSync(args.tokenFile, 'utf8').trim()
    : (process.env.SCIM_TOKEN || '').trim();
  if (!token) usage('no token (--token-file or $SCIM_TOKEN)');
  return token;
}

// Splits the tenant's SCIM URL into the variables the collection's URLs are built
// from: {{Protocol}}://{{Server}}{{Port}}/{{Api}}/Users.
function collectionVariables(scimUrl, token) {
  let url;
  try {
    url = new URL(scimUrl);
  } catch (err) {
    usage(`'${scimUrl}' is not a URL: ${err.message}`);
  }
  return {
    Protocol: url.protocol.replace(/:$/, ''),
    Server: url.hostname,
    Port: url.port ? `:${url.port}` : '',
    Api: url.pathname.replace(/^\/+|\/+$/g, ''),
    token,
  };
}

// Returns a copy of the collection without the login folder and with the variables
// set; reports whether the login folder was there, so a renamed folder is noticed.
function prepareCollection(collection, variables) {
  const items = Array.isArray(collection.item) ? collection.item : [];
  const kept = items.filter((item) => item.name !== LOGIN_FOLDER);
  if (kept.length === items.length) {
    process.stdout.write(`run_newman: note: no '${LOGIN_FOLDER}' folder found to skip\n`);
  } else {
    process.stdout.write(`run_newman: skipping folder '${LOGIN_FOLDER}' (login to Microsoft's sample server)\n`);
  }
  const others = (collection.variable || []).filter((v) => !(v.key in variables));
  const ours = Object.entries(variables).map(([key, value]) => ({ key, value, type: 'string' }));
  return { ...collection, item: kept, variable: [...others, ...ours] };
}

// Characters of a response body shown next to a failure.
const BODY_PREVIEW_CHARS = 600;

// Remembers, per collection item, the request as sent (variables resolved) and the
// response received, so a failure can be reported as request, expected and got.
function exchangeRecorder() {
  const byItem = new Map();
  return {
    record(args) {
      if (!args || !args.item) return;
      const request = args.request;
      const response = args.response;
      let body = '';
      if (response && typeof response.text === 'function') {
        body = response.text() || '';
        if (body.length > BODY_PREVIEW_CHARS) body = `${body.slice(0, BODY_PREVIEW_CHARS)}... (${body.length} chars)`;
      }
      let requestBody = '';
      if (request && request.body && request.body.raw) requestBody = String(request.body.raw).replace(/\s+/g, ' ');
      if (requestBody.length > BODY_PREVIEW_CHARS) requestBody = `${requestBody.slice(0, BODY_PREVIEW_CHARS)}...`;
      byItem.set(args.item.id, {
        method: request ? request.method : '?',
        url: request && request.url ? request.url.toString() : '?',
        requestBody,
        status: response ? `${response.code} ${response.status || ''}`.trim() : 'no response',
        body,
      });
    },
    lookup(item) {
      return item ? byItem.get(item.id) : undefined;
    },
  };
}

function describeFailure(failure, exchanges) {
  const source = failure.source || {};
  const error = failure.error || {};
  const what = error.test ? `assertion '${error.test}'` : error.name || 'error';
  const lines = [`${failure.parent && failure.parent.name ? `${failure.parent.name} / ` : ''}${source.name || failure.at || '?'}: ${what}: ${error.message || ''}`];
  const exchange = exchanges.lookup(source);
  if (exchange) {
    lines.push(`     request:  ${exchange.method} ${exchange.url}`);
    if (exchange.requestBody) lines.push(`     sent:     ${exchange.requestBody}`);
    lines.push(`     got:      ${exchange.status} ${exchange.body.replace(/\s+/g, ' ')}`);
  }
  return lines.join('\n');
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const token = readToken(args);
  let newman;
  try {
    newman = require('newman');
  } catch (err) {
    usage(`cannot load newman (${err.message}); install conformance/package.json`);
  }
  let collection;
  try {
    collection = JSON.parse(fs.readFileSync(args.collection, 'utf8'));
  } catch (err) {
    usage(`cannot read collection ${args.collection}: ${err.message}`);
  }
  const variables = collectionVariables(args.url, token);
  const prepared = prepareCollection(collection, variables);
  process.stdout.write(`run_newman: ${collection.info ? collection.info.name : 'collection'} against ${args.url}\n`);

  const options = {
    collection: prepared,
    reporters: ['cli'],
    reporter: { cli: { noBanner: true } },
    timeoutRequest: REQUEST_TIMEOUT_MS,
    timeout: RUN_TIMEOUT_MS,
    color: 'off',
  };
  if (args.folders.length > 0) options.folder = args.folders;

  const exchanges = exchangeRecorder();
  const emitter = newman.run(options, (err, summary) => {
    if (err) {
      process.stderr.write(`run_newman: newman could not run: ${err.message}\n`);
      process.exit(2);
    }
    const run = summary.run;
    const failures = run.failures || [];
    const assertions = run.stats.assertions;
    const requests = run.stats.requests;
    if (failures.length > 0) {
      process.stdout.write('\nFailures:\n');
      failures.forEach((failure, index) => {
        process.stdout.write(`  ${index + 1}. ${describeFailure(failure, exchanges)}\n`);
      });
    }
    if (run.error) process.stdout.write(`run_newman: run error: ${run.error.message}\n`);
    // A run that asserted nothing checked nothing: count it as a failure.
    const nothingChecked = assertions.total === 0 ? 1 : 0;
    if (nothingChecked) process.stdout.write('run_newman: no assertion ran\n');
    const failed = failures.length + nothingChecked + (run.error ? 1 : 0);
    const passed = Math.max(assertions.total - assertions.failed, 0);
    process.stdout.write(`newman requests: ${requests.total} sent, ${requests.failed} failed to send\n`);
    process.stdout.write(`newman: ${passed} passed, ${failed} failed\n`);
    process.exit(failed > 0 ? 1 : 0);
  });
  emitter.on('request', (err, args) => exchanges.record(args));
}

if (require.main === module) {
  main();
}

module.exports = { collectionVariables, prepareCollection, describeFailure, exchangeRecorder, LOGIN_FOLDER };
