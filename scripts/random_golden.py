#!/usr/bin/env python3
"""Golden values for tests/test_random.c: an implementation of ArrayFire's random engines as its CUDA
kernels define them (src/backend/cuda/kernel/random_engine*.hpp of ArrayFire 3.10), written apart
from src/core/rng.h, with exactly rounded log, sin and cos (mpmath) for the normals. Prints the
`goldens` table and the Mersenne multi-block values. Slow (pure Python); run from anywhere."""
import math
import struct
import mpmath
mpmath.mp.prec = 200
M32 = 0xffffffff
M64 = (1 << 64) - 1

def philox(key, ctr):
    k0, k1 = key; c = list(ctr)
    for r in range(10):
        p0 = 0xD2511F53 * c[0]; p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ c[3] ^ k1) & M32, p0 & M32]
        k0 = (k0 + 0x9E3779B9) & M32; k1 = (k1 + 0xBB67AE85) & M32
    return c

def rotl(x, n): return ((x << n) | (x >> (32 - n))) & M32
R = [13, 15, 26, 6, 17, 29, 16, 24]
def threefry(key, ctr):
    ks = [key[0], key[1], 0x1BD11BDA ^ key[0] ^ key[1]]
    x0 = (ctr[0] + ks[0]) & M32; x1 = (ctr[1] + ks[1]) & M32
    for g in range(4):
        for i in range(4):
            rr = R[(g % 2) * 4 + i]
            x0 = (x0 + x1) & M32; x1 = rotl(x1, rr) ^ x0
        x0 = (x0 + ks[(g + 1) % 3]) & M32
        x1 = (x1 + ks[(g + 2) % 3] + g + 1) & M32
    return [x0, x1]

def f32(x): return struct.unpack('f', struct.pack('f', x))[0]
def f16(x): return struct.unpack('e', struct.pack('e', x))[0]   # double -> half RN
def h_from_f(x): return f16(f32(x))  # float result rounded to half, as cvt.rn.f16.f32

SIZE = {'f32':4,'c32':8,'f64':8,'c64':16,'b8':1,'s32':4,'u32':4,'u8':1,'s64':8,'u64':8,'s16':2,'u16':2,'f16':2,'s8':1}
def P(dt): return 16 // SIZE[dt]

# conversions
def fl01(num): return f32(f32(float(num)) * 2.0**-32 + 2.0**-33)       # fmaf((float)num, 2^-32, 2^-33)
def flneg11(num): return f32(f32(float(num)) * 2.0**-31 + 2.0**-32)
def d01(a, b):
    u = (a << 32) | b
    return float(mpmath.mpf(float(u)) * mpmath.mpf(2)**-64 + mpmath.mpf(2)**-65)  # fma, exact then round
def dneg11(a, b):
    u = (a << 32) | b
    return float(mpmath.mpf(float(u)) * mpmath.mpf(2)**-63 + mpmath.mpf(2)**-64)
def hval(num): return f16(float(min(65504, num & 0xffff)))
def h01(num): return f16(hval(num) * 2.0**-16 + 2.0**-17)
def hneg11(num): return f16(hval(num) * 2.0**-15 + 2.0**-16)
def one_minus_h01(num): return f16(1.0 - h01(num))

def log_cr(x): return float(mpmath.log(mpmath.mpf(x)))
def sinpi_cr(x): return float(mpmath.sinpi(mpmath.mpf(x)))
def cospi_cr(x): return float(mpmath.cospi(mpmath.mpf(x)))

def bm_f32(a, b):
    r1 = flneg11(a); r2 = fl01(b)
    lg = f32(log_cr(r2)); r = f32(math.sqrt(-2.0 * lg)) if lg != 0 else (-0.0)
    s = f32(sinpi_cr(r1)) + 0.0; c = f32(cospi_cr(r1)) + 0.0
    return f32(r * s), f32(r * c)
def bm_f64(a, b, c_, d):
    r1 = dneg11(a, b); r2 = d01(c_, d)
    lg = log_cr(r2); r = math.sqrt(-2.0 * lg) if lg != 0 else -0.0
    s = sinpi_cr(r1) + 0.0; c = cospi_cr(r1) + 0.0
    return r * s, r * c
def bm_f16(w):
    r1 = hneg11(w); r2 = h01(w >> 16)
    lg = h_from_f(log_cr(r2)); m2 = f16(-2.0 * lg); r = h_from_f(math.sqrt(m2)) if m2 != 0 else -0.0
    val = f16(r1 * 3.140625)
    s = h_from_f(float(mpmath.sin(mpmath.mpf(val)))); c = h_from_f(float(mpmath.cos(mpmath.mpf(val))))
    return f16(r * s), f16(r * c)

def convert(dt, dist, w, k):
    """value of slot k of a thread with words w (AF CUDA writeOut128Bytes / boxMuller...)"""
    if dist == 'u':
        if dt in ('u8', 's8'):
            v = (w[k // 4] >> (8 * (k % 4))) & 0xff
            return v - 256 if dt == 's8' and v >= 128 else v
        if dt == 'b8': return (w[k // 4] >> (8 * (k % 4))) & 1
        if dt in ('u16', 's16'):
            v = (w[k // 2] >> (16 * (k % 2))) & 0xffff
            return v - 65536 if dt == 's16' and v >= 32768 else v
        if dt in ('u32', 's32'):
            v = w[k]
            return v - (1 << 32) if dt == 's32' and v >= (1 << 31) else v
        if dt in ('u64', 's64'):
            v = (w[2 * k + 1] << 32) | w[2 * k]
            return v - (1 << 64) if dt == 's64' and v >= (1 << 63) else v
        if dt == 'f32': return f32(1.0 - fl01(w[k]))
        if dt == 'c32': return (f32(1.0 - fl01(w[2 * k])), f32(1.0 - fl01(w[2 * k + 1])))
        if dt == 'f64': return 1.0 - d01(w[2 * k], w[2 * k + 1])
        if dt == 'c64': return (1.0 - d01(w[0], w[1]), 1.0 - d01(w[2], w[3]))
        if dt == 'f16': return one_minus_h01(w[k // 2] >> (16 * (k % 2)))
    else:
        if dt == 'f32': return bm_f32(w[2 * (k // 2)], w[2 * (k // 2) + 1])[k % 2]
        if dt == 'c32': return bm_f32(w[2 * k], w[2 * k + 1])
        if dt == 'f64': return bm_f64(*w)[k]
        if dt == 'c64': return bm_f64(*w)
        if dt == 'f16': return bm_f16(w[k // 2])[k % 2]
    raise ValueError(dt)

def cb_words(engine, seed, counter, idx, step):
    key = (seed & M32, seed >> 32)
    if engine == 'philox':
        c = counter + idx
        return philox(key, (c & M32, (c >> 32) & M32, c >> 64, 0))
    c1 = (counter + idx) & M64
    c2 = (c1 + step) & M64
    return threefry(key, (c1 & M32, c1 >> 32)) + threefry(key, (c2 & M32, c2 >> 32))

def gen_cb(engine, dt, dist, n, seed, counter):
    p = P(dt); epb = 256 * p
    out = [None] * n
    for e in range(n):
        g, r = divmod(e, epb); k, t = divmod(r, 256)
        w = cb_words(engine, seed, counter, g * epb + t, epb // 2)
        out[e] = convert(dt, dist, w, k)
    return out

# ---- Mersenne (MTGP32, 11213), ArrayFire's CUDA kernels ----
def _tables():
    """MTGP 11213 parameter tables, as src/core/rng.h lists them (ArrayFire's, from MTGP)."""
    import os, re
    text = open(os.path.join(os.path.dirname(__file__), '..', 'src', 'core', 'rng.h')).read()
    out = {}
    for key, name in [('POS', 'em_rng_mt_pos'), ('SH1', 'em_rng_mt_sh1'), ('SH2', 'em_rng_mt_sh2'),
                      ('REC', 'em_rng_mt_rec_tbl'), ('TEMPER', 'em_rng_mt_tmp_tbl')]:
        body = re.search(name + r'\[[^]]*\] = \{([^}]*)\}', text).group(1)
        out[key] = [int(v) for v in re.findall(r'(\d+)u', body)]
    return out
T = _tables()
N = 351
def mt_init(seed):
    st = []
    for b in range(32):
        tbl = T['REC'][16 * b:16 * b + 16]
        hidden = tbl[4] ^ ((tbl[8] << 16) & M32)
        tmp = hidden
        tmp = (tmp + (tmp >> 16)) & M32
        tmp = (tmp + (tmp >> 8)) & M32
        tmp &= 0xff; tmp |= tmp << 8; tmp |= tmp << 16
        l = [tmp] * N
        l[0] = seed & M32; l[1] = hidden
        for i in range(1, N):
            l[i] ^= (1812433253 * (l[i - 1] ^ (l[i - 1] >> 30)) + i) & M32
        st += l
    return st

def mt_block_outputs(state, b, count):
    """count outputs of block b; returns outputs and new state slice"""
    pos = T['POS'][b]; sh1 = T['SH1'][b]; sh2 = T['SH2'][b]; mask = 4294443008
    rec = T['REC'][16 * b:16 * b + 16]; tem = T['TEMPER'][16 * b:16 * b + 16]
    ring = [None] * 768
    for i in range(N): ring[417 + i] = state[b * N + i]
    outs = []
    for j in range(count):
        x1 = ring[(417 + j) % 768]; x2 = ring[(418 + j) % 768]; y = ring[(417 + j + pos) % 768]
        x = (x1 & mask) ^ x2
        x ^= (x << sh1) & M32
        y = x ^ (y >> sh2)
        r = y ^ rec[y & 15]
        ring[j % 768] = r
        t = ring[(416 + j + pos) % 768]
        t ^= t >> 16; t ^= t >> 8
        outs.append(r ^ tem[t & 15])
    return outs, ring[417:768]

def divup(a, b): return (a + b - 1) // b
def gen_mt(dt, dist, n, state):
    p = P(dt); epi = 256 * p
    blocks = min(32, divup(n, 32 * epi)); epb = divup(n, blocks)
    out = [None] * n
    new = list(state)
    owner = [None] * n
    for b in range(blocks):
        start = b * epb; end = min(start + epb, n)
        it = divup(end - start, epi)
        outs, ns = mt_block_outputs(state, b, it * 1024)
        new[b * N:(b + 1) * N] = ns
        skip = (divup(epb, epi) * epi - epb) if b > 0 else 0
        for l in range(skip, it * epi):
            e = start + l
            if e >= n: break
            i, r = divmod(l, epi); k, t = divmod(r, 256)
            w = [outs[(4 * i + q) * 256 + t] for q in range(4)]
            out[e] = convert(dt, dist, w, k)
    return out, new

# ---- the tables of tests/test_random.c ----
DT = ['f32','c32','f64','c64','b8','s32','u32','u8','s64','u64','s16','u16','f16','s8']
IDX = [0, 1, 255, 256, 1024, 1999]
def bits(dt, v):
    if dt in ('f32','c32'): f = lambda x: struct.unpack('<I', struct.pack('<f', x))[0]
    elif dt in ('f64','c64'): f = lambda x: struct.unpack('<Q', struct.pack('<d', x))[0]
    elif dt == 'f16': f = lambda x: struct.unpack('<H', struct.pack('<e', x))[0]
    else: f = lambda x: x % (1 << (8*SIZE[dt]))
    if dt in ('c32','c64'): return f(v[0]), f(v[1])
    return f(v), 0
def value_at_cb(engine, dt, dist, n, e, seed, counter):
    p = P(dt); epb = 256*p; g, r = divmod(e, epb); k, t = divmod(r, 256)
    return convert(dt, dist, cb_words(engine, seed, counter, g*epb+t, epb//2), k)
mt_cache = {}
def value_at_mt(dt, dist, n, e, seed):
    key = (dt, n, seed)
    if key not in mt_cache:
        st = mt_init(seed)
        p = P(dt); epi = 256*p
        blocks = min(32, divup(n, 32*epi)); epb = divup(n, blocks)
        outs = {}
        for b in range(blocks):
            start = b*epb; end = min(start+epb, n); it = divup(end-start, epi)
            outs[b] = mt_block_outputs(st, b, it*1024)[0]
        mt_cache[key] = (outs, epb, epi, blocks)
    outs, epb, epi, blocks = mt_cache[key]
    skip = divup(epb, epi)*epi - epb
    b = e // epb; l = e - b*epb
    if b > 0 and l < skip: b -= 1; l += epb
    i, r = divmod(l, epi); k, t = divmod(r, 256)
    return convert(dt, dist, [outs[b][(4*i+q)*256+t] for q in range(4)], k)
ENG = {'philox':'AF_RANDOM_ENGINE_PHILOX_4X32_10','threefry':'AF_RANDOM_ENGINE_THREEFRY_2X32_16','mt':'AF_RANDOM_ENGINE_MERSENNE_GP11213'}
lines = []
n = 2000
for engine in ['philox','threefry','mt']:
    for dist, dts in [('u', DT), ('n', ['f32','c32','f64','c64','f16'])]:
        for dt in dts:
            for e in IDX:
                v = value_at_mt(dt, dist, n, e, 1234) if engine == 'mt' else value_at_cb(engine, dt, dist, n, e, 1234, 0)
                re, im = bits(dt, v)
                lines.append('    {%d, %s, %d, %4d, 0x%xull, 0x%xull},' % (['philox','threefry','mt'].index(engine), dt, dist=='n', e, re, im))
print('\n'.join(lines))
# multi-block mersenne
mb = []
for e in [0, 24999, 25000, 25599, 25600, 25601, 99999]:
    v = value_at_mt('f32','u',100000,e,77); mb.append((e, bits('f32', v)[0]))
print('/* Mersenne seed 77, 100000 f32: */', mb)
# second draw after 100000 from seed 77: state chained
st = mt_init(77)
o, ns = gen_mt('f32','u',100000, st)
o2, ns2 = gen_mt('u32','u',1000, ns)
print('MB2', [hex(x) for x in o2[:4]], hex(o2[999]))
