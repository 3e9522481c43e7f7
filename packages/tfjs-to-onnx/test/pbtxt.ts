/**
 * A protobuf text-format (config.pbtxt) parser that checks every field against a message schema, so a test can
 * say "Triton would accept this config". protobufjs reads .proto schemas and JSON, not the text format, so the
 * tokens are parsed here and each field is looked up in the protobufjs type: an unknown field, a scalar where a
 * message belongs (or the reverse), a wrong scalar type, an unknown enum value, a repeated singular field, or a
 * scalar without its ':' fails with the field's path. What it returns is protobufjs's decoded message as a plain
 * object (after an encode/decode round trip through the schema).
 */
import protobuf from 'protobufjs';

type Token = { kind: 'ident' | 'number' | 'string' | 'punct'; text: string; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // Whitespace and comments | 1 a quoted string | 2 a number | 3 an identifier | 4 punctuation.
  const parts = [
    String.raw`\s+|#[^\n]*`,
    String.raw`("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')`,
    String.raw`(-?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|-?inf|-?nan)(?![A-Za-z_])`,
    String.raw`([A-Za-z_][A-Za-z0-9_]*)`,
    String.raw`([:{}\[\],;<>])`,
  ];
  const re = new RegExp(parts.join('|'), 'gy');
  let line = 1;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length) {
    const at = re.lastIndex;
    m = re.exec(text);
    if (!m) throw new Error(`line ${line}: unexpected character '${text[at]}'`);
    if (m[1] !== undefined) tokens.push({ kind: 'string', text: m[1], line });
    else if (m[2] !== undefined) tokens.push({ kind: 'number', text: m[2], line });
    else if (m[3] !== undefined) tokens.push({ kind: 'ident', text: m[3], line });
    else if (m[4] !== undefined) tokens.push({ kind: 'punct', text: m[4], line });
    line += (m[0].match(/\n/g) ?? []).length;
  }
  return tokens;
}

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new Error(`unexpected end of text, expected ${what}`);
    return t;
  }

  private accept(punct: string): boolean {
    const t = this.peek();
    if (t?.kind === 'punct' && t.text === punct) {
      this.i++;
      return true;
    }
    return false;
  }

  /** Fields until `end` ('}' or end of text) of a message of `type`. */
  message(type: protobuf.Type, path: string, end: string | null): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (end) throw new Error(`${path || type.name}: missing '${end}'`);
        return out;
      }
      if (end && t.kind === 'punct' && t.text === end) {
        this.i++;
        return out;
      }
      const nameToken = this.next('a field name');
      if (nameToken.kind !== 'ident')
        throw new Error(`line ${nameToken.line}: expected a field name, got '${nameToken.text}'`);
      const field = type.fields[nameToken.text];
      const where = path ? `${path}.${nameToken.text}` : nameToken.text;
      if (!field) throw new Error(`line ${nameToken.line}: ${type.name} has no field '${nameToken.text}' (${where})`);
      field.resolve();
      const isMessage = field.resolvedType instanceof protobuf.Type;
      const colon = this.accept(':');
      if (!isMessage && !colon) throw new Error(`line ${nameToken.line}: scalar field ${where} needs ':'`);
      const values: unknown[] = [];
      if (this.accept('[')) {
        if (!field.repeated) throw new Error(`line ${nameToken.line}: ${where} is not repeated but is given a list`);
        if (!this.accept(']')) {
          do values.push(this.value(field, where));
          while (this.accept(','));
          if (!this.accept(']')) throw new Error(`line ${nameToken.line}: ${where}: expected ',' or ']'`);
        }
      } else {
        values.push(this.value(field, where));
      }
      if (field.repeated) {
        out[field.name] = [...((out[field.name] as unknown[]) ?? []), ...values];
      } else {
        if (field.name in out) throw new Error(`line ${nameToken.line}: ${where} is not repeated but is set twice`);
        out[field.name] = values[0];
      }
      // Fields may be separated by ',' or ';'.
      if (!this.accept(',')) this.accept(';');
    }
  }

  private value(field: protobuf.Field, where: string): unknown {
    const t = this.next(`a value for ${where}`);
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      if (t.kind !== 'punct' || (t.text !== '{' && t.text !== '<'))
        throw new Error(`line ${t.line}: ${where} is a ${rt.name} message, expected '{', got '${t.text}'`);
      return this.message(rt, where, t.text === '{' ? '}' : '>');
    }
    if (rt instanceof protobuf.Enum) {
      if (t.kind === 'ident' && t.text in rt.values) return rt.values[t.text];
      throw new Error(
        `line ${t.line}: ${where} is an enum ${rt.name}; '${t.text}' is not one of ` +
          Object.keys(rt.values).join(', '),
      );
    }
    switch (field.type) {
      case 'string':
      case 'bytes': {
        if (t.kind !== 'string')
          throw new Error(`line ${t.line}: ${where} is a ${field.type}, expected a quoted string, got '${t.text}'`);
        return JSON.parse(t.text.startsWith("'") ? `"${t.text.slice(1, -1).replace(/"/g, '\\"')}"` : t.text);
      }
      case 'bool':
        if (t.kind === 'ident' && ['true', 'True', 't'].includes(t.text)) return true;
        if (t.kind === 'ident' && ['false', 'False', 'f'].includes(t.text)) return false;
        throw new Error(`line ${t.line}: ${where} is a bool, got '${t.text}'`);
      case 'float':
      case 'double':
        if (t.kind !== 'number') throw new Error(`line ${t.line}: ${where} is a ${field.type}, got '${t.text}'`);
        return Number(t.text);
      default: {
        const range = INTEGER_RANGES[field.type];
        if (!range) throw new Error(`internal: field type ${field.type} of ${where} is not handled`);
        if (t.kind !== 'number' || !/^-?\d+$/.test(t.text))
          throw new Error(`line ${t.line}: ${where} is an ${field.type}, expected an integer, got '${t.text}'`);
        const v = BigInt(t.text);
        if (v < range[0] || v > range[1])
          throw new Error(`line ${t.line}: ${where}: ${t.text} is out of range for ${field.type}`);
        return Number(v);
      }
    }
  }
}

/** Parses `text` as a `messageName` of the .proto schema `schema`; throws naming the line and field on any misfit. */
export function parsePbtxt(text: string, schema: string, messageName: string): Record<string, any> {
  const type = protobuf.parse(schema, { keepCase: true }).root.lookupType(messageName);
  const plain = new Parser(tokenize(text)).message(type, '', null);
  const problem = type.verify(plain);
  if (problem) throw new Error(`${messageName}: ${problem}`);
  const decoded = type.decode(type.encode(type.fromObject(plain)).finish());
  return type.toObject(decoded, { longs: Number, enums: String, defaults: true, arrays: true });
}
