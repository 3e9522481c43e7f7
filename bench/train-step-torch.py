"""PyTorch twin of bench/train-step-tfjs.mjs: the same U-Net, batch, loss and optimiser; prints one JSON line.

Usage: /usr/bin/python3 bench/train-step-torch.py --threads 2 [--batch 4 --size 256 --base 16 --depth 4 --steps 5]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def block(cin, cout):
    layers = []
    for i in range(2):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False),
                   nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.LeakyReLU(0.01)]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    def __init__(self, base, depth, classes):
        super().__init__()
        widths = [base * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList(block(1 if i == 0 else widths[i - 1], widths[i]) for i in range(depth))
        self.bottom = block(widths[depth - 1], widths[depth])
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in range(depth))
        self.dec = nn.ModuleList(block(2 * widths[i], widths[i]) for i in range(depth))
        self.head = nn.Conv2d(widths[0], classes, 1)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottom(x)
        for i in reversed(range(len(self.up))):
            x = self.dec[i](torch.cat([skips[i], self.up[i](x)], dim=1))
        return torch.softmax(self.head(x), dim=1)


def dice_loss(probs, target):
    dims = (0, 2, 3)
    inter = (probs * target).sum(dims)
    denom = probs.sum(dims) + target.sum(dims)
    return 1 - ((2 * inter + 1e-5) / (denom + 1e-5)).mean()


def main():
    p = argparse.ArgumentParser()
    for name, default in [('threads', 2), ('batch', 4), ('size', 256), ('base', 16), ('depth', 4), ('classes', 2), ('steps', 5), ('warmup', 2)]:
        p.add_argument('--' + name, type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = UNet(a.base, a.depth, a.classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 1, a.size, a.size)
    labels = (torch.rand(a.batch, a.size, a.size) > 0.7).long()
    y = torch.nn.functional.one_hot(labels, a.classes).permute(0, 3, 1, 2).float()

    def step():
        opt.zero_grad()
        loss = dice_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times, cpu_times = [], []
    for _ in range(a.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        last = step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu_times.append((time.process_time() - c0) * 1000)
    print(json.dumps({
        'framework': 'pytorch', 'backend': f'torch {torch.__version__} cpu, {a.threads} threads',
        'params': sum(p.numel() for p in model.parameters()), 'batch': a.batch, 'size': a.size,
        'msPerStep': statistics.median(times), 'minMs': min(times), 'times': [round(t) for t in times], 'lastLoss': last,
        # CPU time summed over all threads: an ideal 2-thread run takes about half of it as wall time.
        'cpuMsPerStep': statistics.median(cpu_times),
    }))


if __name__ == '__main__':
    main()
