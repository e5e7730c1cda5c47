// Oracle for tests/library/test_encoding.py: Twilio's own segment calculator.
//
// stdin: one JSON string per line (an SMS body).
// stdout: one JSON object per input line, in the same order:
//   {"encoding": "GSM-7" | "UCS-2", "segments": int, "characters": int, "nonGsm": [str]}
// "characters" is the calculator's numberOfCharacters (septets for GSM-7, graphemes for
// UCS-2); "nonGsm" is getNonGsmCharacters(), one entry per occurrence.
// Smart Encoding stays off: the app sends bodies as written.
"use strict";

const readline = require("readline");
const { SegmentedMessage } = require("sms-segments-calculator");

function analyze(body) {
  const message = new SegmentedMessage(body, "auto", false);
  return {
    encoding: message.encodingName,
    segments: message.segmentsCount,
    characters: message.numberOfCharacters,
    nonGsm: message.getNonGsmCharacters(),
  };
}

const results = [];
const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => results.push(JSON.stringify(analyze(JSON.parse(line)))));
// One write at the end: thousands of small writes to a pipe are the slow part.
input.on("close", () => process.stdout.write(results.map((line) => `${line}\n`).join("")));
