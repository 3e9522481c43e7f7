#!/usr/bin/env python3
"""HD, HD95, ASSD and NSD of a 3D pair the way MONAI computes them (surfaces by binary_erosion,
distance_transform_edt of the other surface's complement read at the surface voxels, HD95 the max of the two
directed 95th percentiles, ASSD the mean over both surfaces, NSD the fraction of both surfaces within the
tolerance), timed. Usage: python3 bench/hd95-scipy.py DIR [NSD_TOLERANCE_MM]  -> one JSON line"""
import json, sys, time
import numpy as np
from scipy import ndimage

folder = sys.argv[1]
tolerance = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
meta = json.load(open(f'{folder}/pair.json'))
shape, spacing = meta['shape'], meta['spacing']
pred = np.fromfile(f'{folder}/pred.u8', dtype=np.uint8).reshape(shape).astype(bool)
ref = np.fromfile(f'{folder}/ref.u8', dtype=np.uint8).reshape(shape).astype(bool)

def metrics():
    sp = pred & ~ndimage.binary_erosion(pred, border_value=0)
    sr = ref & ~ndimage.binary_erosion(ref, border_value=0)
    d_pr = ndimage.distance_transform_edt(~sr, sampling=spacing)[sp]
    d_rp = ndimage.distance_transform_edt(~sp, sampling=spacing)[sr]
    both = np.concatenate([d_pr, d_rp])
    return {
        'hd': float(both.max()),
        'hd95': float(max(np.percentile(d_pr, 95), np.percentile(d_rp, 95))),
        'assd': float(both.mean()),
        'nsd': float((both <= tolerance).mean()),
    }

times = []
for _ in range(3):
    t = time.process_time()  # CPU time: the machine is shared, wall time would measure the neighbors
    values = metrics()
    times.append(time.process_time() - t)
print(json.dumps({**values, 'seconds': float(np.median(times))}))
