/** Debian's python3-onnx as an independent judge of exported files; tests skip visibly where it is absent. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function onnxCheckerAvailability(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync('/usr/bin/python3')) return { ok: false, reason: '/usr/bin/python3 is absent' };
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return {
      ok: false,
      reason: `python3-onnx is not installed (apt-get install -y python3-onnx): ${probe.stderr.trim().split('\n').pop()}`,
    };
  return { ok: true };
}

export interface CheckedModel {
  opset: number[];
  inputs: string[];
  outputs: string[];
  ops: string[];
  metadata: Record<string, string>;
}

/** onnx.checker.check_model with full_check (shape inference too); throws with the checker's output when it fails. */
export function checkOnnxFile(path: string): CheckedModel {
  const script = [
    'import sys, json, onnx',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'g = m.graph',
    'print(json.dumps({"opset": [o.version for o in m.opset_import], "inputs": [i.name for i in g.input],',
    '  "outputs": [o.name for o in g.output], "ops": sorted({n.op_type for n in g.node}),',
    '  "metadata": {p.key: p.value for p in m.metadata_props}}))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`onnx.checker rejected ${path}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as CheckedModel;
}
