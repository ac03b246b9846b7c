// A re-creation of the original results server (catalyst-comms reference, section 4), written from
// that spec to benchmark peerperf's results gateway against; not the original's code. See README.md.
"use strict";

const fs = require("fs");
const path = require("path");
const os = require("os");
const express = require("express");
const cors = require("cors");
const morgan = require("morgan");

const port = Number(process.env.PORT || 9904);
const host = process.env.HOST || "127.0.0.1"; // loopback only; the original listened on every interface
const location = process.env.TEST_RESULTS_LOCATION || path.join(os.homedir(), "peer-performance-tests");

// The original relayed every datapoint to STATS_SERVER_URL (a third-party host by default). That relay is
// not re-created: nothing here may leave the machine, so only the "disabled" setting (empty) is accepted.
if (process.env.STATS_SERVER_URL) {
  console.error("STATS_SERVER_URL must be empty: the InfluxDB relay is not part of this re-creation");
  process.exit(2);
}

if (!fs.existsSync(location)) {
  fs.mkdirSync(location); // non-recursive, as the original
}

const tests = {};

function testFile(testId) {
  return path.join(location, `${testId}.json`);
}

function randomId() {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let suffix = "";
  for (let i = 0; i < 6; i++) {
    suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  }
  return `${Date.now()}-${suffix}`;
}

function createTest(id, body) {
  const test = { id, dataPoints: [], topologyDataPoints: [], results: {} };
  if (body && body.started) {
    test.started = Date.now();
  }
  tests[id] = test;
  return { id, started: test.started }; // res.json leaves `started` out when undefined
}

// One deviation, for safety: a test id that would name a file outside the results folder is "not found".
function isPlainId(testId) {
  return !testId.includes("/") && !testId.includes("\\") && testId !== "." && testId !== "..";
}

function validateTestExists(req, res, next) {
  const { testId } = req.params;
  if (tests[testId]) {
    return next();
  }
  if (!isPlainId(testId)) {
    return res.status(404).json({ status: "test-not-found" });
  }
  fs.readFile(testFile(testId), "utf8", (error, text) => {
    if (error) {
      return res.status(404).json({ status: "test-not-found" });
    }
    tests[testId] = JSON.parse(text); // loaded lazily, as the original
    next();
  });
}

function validateTestOngoing(req, res, next) {
  const test = tests[req.params.testId];
  if (test.started && !test.finished) {
    return next();
  }
  res.status(400).json({ status: test.started ? "test-already-finished" : "test-not-started" });
}

const app = express();
app.use(cors());
app.use(express.json());
app.use(morgan("combined"));

app.get("/status", (req, res) => res.json({ status: "ok" }));

app.post("/test", (req, res) => res.json(createTest(randomId(), req.body)));

app.post("/test/:testId", (req, res) => res.json(createTest(req.params.testId, req.body)));

app.put("/test/:testId/start", validateTestExists, (req, res) => {
  const test = tests[req.params.testId];
  test.started = Date.now();
  res.json({ id: test.id, started: test.started });
});

app.get("/test/:testId", validateTestExists, (req, res) => {
  const test = tests[req.params.testId];
  if (req.query.dataPoints === "true") {
    return res.json(test);
  }
  res.json({ id: test.id, started: test.started, finished: test.finished });
});

app.put("/test/:testId/peer/:peerId/metrics", validateTestExists, validateTestOngoing, (req, res) => {
  const dataPoint = { peerId: req.params.peerId, timestamp: Date.now(), metrics: req.body };
  tests[req.params.testId].dataPoints.push(dataPoint);
  res.json(dataPoint);
});

app.put("/test/:testId/peer/:peerId/results", validateTestExists, validateTestOngoing, (req, res) => {
  const entry = { ...req.body, timestamp: Date.now() };
  tests[req.params.testId].results[req.params.peerId] = entry;
  res.json(entry);
});

app.put("/test/:testId/topology", validateTestExists, validateTestOngoing, (req, res) => {
  const test = tests[req.params.testId];
  test.topologyDataPoints.push({ timestamp: Date.now(), topology: req.body });
  res.json({ id: test.id, started: test.started });
});

app.put("/test/:testId/finish", validateTestExists, validateTestOngoing, (req, res, next) => {
  const test = tests[req.params.testId];
  test.finished = Date.now();
  fs.writeFile(testFile(test.id), JSON.stringify(test), "utf8", (error) => {
    if (error) {
      return next(error);
    }
    res.json(test);
  });
});

const server = app.listen(port, host, () => {
  console.log(`==> Performance test results server listening on port ${server.address().port}.`);
});
