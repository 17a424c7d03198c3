// Oracle for the simulator's `${{ }}` evaluator: GitHub's own @actions/expressions package.
//
// Reads JSON lines on stdin, one request per line:
//   {"expr": "...", "contexts": {...}, "names": ["github", ...], "status": {"success": true, ...}}
// `names` are the named-values the parser accepts (default: the keys of `contexts`); a name without a
// value in `contexts` evaluates to null. `status`, when given, defines success()/failure()/cancelled()/
// always(). Non-finite numbers travel as {"$nonfinite": "NaN" | "Infinity" | "-Infinity"}.
// Writes one JSON line per request, in order:
//   {"ok": true, "kind": "string", "value": <json>, "text": "<coerceString()>"}
//   {"ok": false, "error": "parse" | "eval", "message": "..."}
import { createInterface } from "node:readline";
import { Evaluator, Lexer, Parser, data } from "@actions/expressions";

const NONFINITE = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
const KIND_NAMES = {
  [data.Kind.String]: "string",
  [data.Kind.Array]: "array",
  [data.Kind.Dictionary]: "object",
  [data.Kind.Boolean]: "boolean",
  [data.Kind.Number]: "number",
  [data.Kind.Null]: "null",
};

/** Plain JSON (with $nonfinite tags) -> ExpressionData. */
function toData(value) {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === "boolean") return new data.BooleanData(value);
  if (typeof value === "number") return new data.NumberData(value);
  if (typeof value === "string") return new data.StringData(value);
  if (Array.isArray(value)) return new data.Array(...value.map(toData));
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "$nonfinite") return new data.NumberData(NONFINITE[value.$nonfinite]);
  return new data.Dictionary(...keys.map((key) => ({ key, value: toData(value[key]) })));
}

/** ExpressionData -> plain JSON (with $nonfinite tags); object keys keep their insertion order. */
function fromData(value) {
  switch (value.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.Boolean:
    case data.Kind.String:
      return value.value;
    case data.Kind.Number:
      return Number.isFinite(value.value) ? value.value : { $nonfinite: String(value.value) };
    case data.Kind.Array:
      return value.values().map(fromData);
    default:
      return Object.fromEntries(value.pairs().map((pair) => [pair.key, fromData(pair.value)]));
  }
}

function statusFunctions(status) {
  const names = ["success", "failure", "cancelled", "always"];
  return names.map((name) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(name === "always" ? true : Boolean(status[name])),
  }));
}

function parse(request) {
  const tokens = new Lexer(request.expr).lex().tokens;
  if (tokens.length === 1) throw new Error("empty expression");
  const names = request.names ?? Object.keys(request.contexts ?? {});
  const functions = request.status ? statusFunctions(request.status) : [];
  return { tree: new Parser(tokens, names, functions).parse(), names, functions };
}

function evaluate(request) {
  let parsed;
  try {
    parsed = parse(request);
  } catch (error) {
    return { ok: false, error: "parse", message: String(error.message ?? error) };
  }
  try {
    const given = request.contexts ?? {};
    const pairs = parsed.names.map((name) => ({ key: name, value: toData(given[name]) }));
    const functions = new Map(parsed.functions.map((f) => [f.name, f]));
    const result = new Evaluator(parsed.tree, new data.Dictionary(...pairs), functions).evaluate();
    return { ok: true, kind: KIND_NAMES[result.kind], value: fromData(result), text: result.coerceString() };
  } catch (error) {
    return { ok: false, error: "eval", message: String(error.message ?? error) };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
for await (const line of lines) {
  if (line.trim() === "") continue;
  out.push(JSON.stringify(evaluate(JSON.parse(line))));
  if (out.length >= 512) process.stdout.write(out.splice(0).join("\n") + "\n");
}
if (out.length) process.stdout.write(out.join("\n") + "\n");
