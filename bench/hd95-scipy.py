#!/usr/bin/env python3
"""HD95 of a 3D pair the way MONAI computes it (surfaces by binary_erosion, distance_transform_edt of the other
surface's complement, max of the two directed 95th percentiles), timed. Usage: python3 bench/hd95-scipy.py DIR"""
import json, sys, time
import numpy as np
from scipy import ndimage

folder = sys.argv[1]
meta = json.load(open(f'{folder}/pair.json'))
shape, spacing = meta['shape'], meta['spacing']
pred = np.fromfile(f'{folder}/pred.u8', dtype=np.uint8).reshape(shape).astype(bool)
ref = np.fromfile(f'{folder}/ref.u8', dtype=np.uint8).reshape(shape).astype(bool)

def hd95():
    sp = pred & ~ndimage.binary_erosion(pred, border_value=0)
    sr = ref & ~ndimage.binary_erosion(ref, border_value=0)
    d_pr = ndimage.distance_transform_edt(~sr, sampling=spacing)[sp]
    d_rp = ndimage.distance_transform_edt(~sp, sampling=spacing)[sr]
    return max(np.percentile(d_pr, 95), np.percentile(d_rp, 95))

times = []
for _ in range(3):
    t = time.process_time()  # CPU time: the machine is shared, wall time would measure the neighbours
    value = hd95()
    times.append(time.process_time() - t)
print(json.dumps({'hd95': float(value), 'seconds': float(np.median(times))}))
