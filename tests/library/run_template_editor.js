// Runs the pure functions of static/cue/template_editor.js for tests/library/test_editor_js.py.
//
// `node run_template_editor.js tables`: the editor's GSM and Unicode tables, as JSON.
// `node run_template_editor.js` with one JSON string (an SMS body) per stdin line: one JSON
// object per line with what the editor computes for it, in the same order.
"use strict";

const path = require("path");
const readline = require("readline");
const sms = require(path.join(__dirname, "..", "..", "static", "cue", "template_editor.js"));

function analyze(body) {
  return {
    ...sms.smsAnalyze(body),
    segmentTexts: sms.smsSegments(body),
    replacements: Object.entries(sms.gsmReplacements(body)),
    normalized: sms.gsmNormalize(body),
    replacementHelps: sms.replacementHelps(body),
  };
}

if (process.argv[2] === "tables") {
  process.stdout.write(
    JSON.stringify({
      basic: sms.GSM_BASIC_CHARACTERS,
      extension: sms.GSM_EXTENSION_CHARACTERS,
      replacements: sms.GSM_REPLACEMENTS,
      ranges: sms.RANGES,
    })
  );
} else {
  const results = [];
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on("line", (line) => results.push(JSON.stringify(analyze(JSON.parse(line)))));
  input.on("close", () => process.stdout.write(results.map((line) => `${line}\n`).join("")));
}
