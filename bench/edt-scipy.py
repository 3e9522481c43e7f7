#!/usr/bin/env python3
"""Times scipy.ndimage.distance_transform_edt on the masks written by bench/edt-masks.js.
Usage: python3 bench/edt-scipy.py DIR [CASE]  -> one JSON line {case: {isotropic: s, anisotropic: s}}"""
import json, sys, time
import numpy as np
from scipy import ndimage

def median_time(fn, repeats):
    """Median CPU time of this process (user + system): on a shared, loaded machine wall time mostly measures
    the other processes; scipy's EDT is single-threaded, so CPU time is its cost."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return float(np.median(times))

folder = sys.argv[1]
manifest = json.load(open(f'{folder}/manifest.json'))
out = {}
for case in manifest:
    if len(sys.argv) > 2 and case['name'] != sys.argv[2]:
        continue
    mask = np.fromfile(f"{folder}/{case['file']}", dtype=np.uint8).reshape(case['shape'])
    repeats = 7 if mask.size <= 2_100_000 else 3
    iso = [1.0] * mask.ndim
    out[case['name']] = {
        'isotropic': median_time(lambda: ndimage.distance_transform_edt(mask, sampling=iso), repeats),
        'anisotropic': median_time(lambda: ndimage.distance_transform_edt(mask, sampling=case['anisotropic']), repeats),
    }
print(json.dumps(out))
