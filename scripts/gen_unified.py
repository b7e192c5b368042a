#!/usr/bin/env python3
"""Generates src/unified/forward.c, the forwarders of the unified library libaf.so.3.

The list of functions is written once: tests/abi/arrayfire-c-api.md holds every declaration of
ArrayFire's C API, one a line. Ember's own extensions are named in tests/abi/ember-extensions.txt
and their declarations are read from the public headers in include/af/. Every af_err function
becomes a forwarder that resolves the same symbol in the backend chosen by af_set_backend; the
few functions that the unified layer answers itself (backend selection, error strings, host
memory, af_make_seq) are written by hand in src/unified/unified.c and only listed here.

The output is committed, so building Ember needs no Python. Re-run after the API list changes:
    python3 scripts/gen_unified.py            writes src/unified/forward.c
    python3 scripts/gen_unified.py --check    exits 1 when the committed file is stale
Standard library only.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_CANDIDATES = [
    os.path.join(ROOT, 'tests', 'abi', 'arrayfire-c-api.md'),
    os.path.join(ROOT, '..', 'shared', 'api', 'arrayfire-c-api.md'),
]
EXTENSIONS = os.path.join(ROOT, 'tests', 'abi', 'ember-extensions.txt')
HEADERS = os.path.join(ROOT, 'include', 'af')
OUTPUT = os.path.join(ROOT, 'src', 'unified', 'forward.c')

# Written by hand in src/unified/unified.c: they do not return af_err, or the unified layer
# answers them itself rather than one backend.
HAND_WRITTEN = {
    'af_set_backend': 'selects the backend of the calling thread',
    'af_get_backend_count': 'counts the backend libraries that load',
    'af_get_available_backends': 'the bitmask of the backend libraries that load',
    'af_get_active_backend': 'the backend of the calling thread',
    'af_get_last_error': 'returns the message of the layer that failed last',
    'af_err_to_string': 'returns const char *; works without any backend',
    'af_get_revision': 'returns const char *; works without any backend',
    'af_make_seq': 'returns af_seq by value; a pure function',
    'af_alloc_host': 'falls back to malloc when no backend is loaded',
    'af_free_host': 'falls back to free when no backend is loaded',
}

DECL_RE = re.compile(r'^(?:\[>=(\d+)\]\s*)?(.*?)\b((?:af|afcu)_\w+)\s*\((.*)\)\s*;\s*$')
IDENT_RE = re.compile(r'[A-Za-z_]\w*')


def read_api(path):
    """Returns [(header, name, return type, parameter text)] from the API list."""
    decls = []
    header = None
    in_block = False
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if line.startswith('```'):
                in_block = not in_block
                continue
            if not in_block or not line:
                continue
            if line.startswith('## '):
                header = line[3:].strip()
                continue
            m = DECL_RE.match(line)
            if not m:
                sys.exit('%s:%d: not a declaration: %s' % (path, lineno, line))
            decls.append((header, m.group(3), ' '.join(m.group(2).split()), m.group(4).strip()))
    return decls


def read_extensions():
    """Returns the declarations of Ember's extensions, read from include/af/*.h."""
    if not os.path.exists(EXTENSIONS):
        return []
    names = []
    with open(EXTENSIONS, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                names.append(line)
    texts = {}
    for fn in sorted(os.listdir(HEADERS)):
        if fn.endswith('.h'):
            with open(os.path.join(HEADERS, fn), encoding='utf-8') as f:
                text = f.read()
            text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
            texts[fn] = re.sub(r'//[^\n]*', ' ', text)
    decls = []
    for name in names:
        found = None
        for fn, text in texts.items():
            m = re.search(r'AFAPI\s+([^;{}()]*?)\b' + re.escape(name) + r'\s*\(([^;{}]*?)\)\s*;',
                          text, flags=re.S)
            if m:
                found = (fn, name, ' '.join(m.group(1).split()), ' '.join(m.group(2).split()))
                break
        if not found:
            sys.exit('%s: %s is listed but no header in include/af declares it'
                     % (EXTENSIONS, name))
        decls.append(found)
    return decls


def split_params(params):
    out, depth, cur = [], 0, ''
    for ch in params:
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        if ch == ',' and depth == 0:
            out.append(cur.strip())
            cur = ''
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def param_names(name, params):
    """The argument list that passes each parameter on: the last identifier of each one."""
    plist = split_params(params)
    if plist in ([], ['void']):
        return []
    names = []
    for p in plist:
        fnptr = re.match(r'^[^(]*\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(', p)
        if fnptr:  # a function pointer parameter: its name is inside (*name)
            names.append(fnptr.group(1))
            continue
        idents = IDENT_RE.findall(p)
        if len(idents) < 2 or '(' in p:
            sys.exit('%s: cannot name parameter "%s"; give it a name in the API list' % (name, p))
        names.append(idents[-1])
    return names


def wrap_list(items, indent, width=100, close=''):
    """'(a, b, c)' + close, broken after commas so that no line passes `width` columns."""
    lines, cur = [], ' ' * indent + '('
    for k, item in enumerate(items):
        piece = item + (', ' if k + 1 < len(items) else ')' + close)
        if len(cur) + len(piece.rstrip()) > width and cur.strip() != '(':
            lines.append(cur.rstrip())
            cur = ' ' * (indent + 1)
        cur += piece
    if not items:
        cur += ')' + close
    lines.append(cur.rstrip())
    return lines


def forwarder(name, params, args_list):
    """One EM_UNI_FORWARD line, wrapped as clang-format would at 100 columns."""
    one = 'EM_UNI_FORWARD(%s, (%s), (%s))' % (name, params, ', '.join(args_list))
    if len(one) <= 100:
        return one
    indent = len('EM_UNI_FORWARD(')
    plist = split_params(params)
    lines = ['EM_UNI_FORWARD(%s,' % name]
    lines += wrap_list(plist, indent, close=',')
    lines += wrap_list(args_list, indent, close=')')
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='fail if forward.c is stale')
    ap.add_argument('--api', help='the API list (default: tests/abi/arrayfire-c-api.md)')
    args = ap.parse_args()

    api = args.api or next((p for p in API_CANDIDATES if os.path.exists(p)), None)
    if not api:
        sys.exit('no arrayfire-c-api.md found in ' + ', '.join(API_CANDIDATES))
    decls = read_api(api) + [(h, n, r, p) for h, n, r, p in read_extensions()]

    seen = set()
    for _, name, _, _ in decls:
        if name in seen:
            sys.exit('%s is declared twice' % name)
        seen.add(name)
    missing = sorted(set(HAND_WRITTEN) - seen)
    if missing:
        sys.exit('hand-written functions missing from the API list: ' + ', '.join(missing))

    rel_api = os.path.relpath(api, ROOT)
    out = []
    w = out.append
    w('/* Generated by scripts/gen_unified.py from %s and' % rel_api)
    w(' * tests/abi/ember-extensions.txt. Do not edit: change the list and run the script.')
    w(' *')
    w(' * Each function forwards to the same symbol in the backend library that the calling thread')
    w(' * selected with af_set_backend (see unified.c). The symbol is looked up with dlsym on first')
    w(' * use and cached per backend; a backend that lacks it answers AF_ERR_NOT_SUPPORTED.')
    w(' *')
    w(' * Written by hand in unified.c:')
    for name in sorted(HAND_WRITTEN):
        w(' *   %-26s %s' % (name, HAND_WRITTEN[name]))
    w(' */')
    w('#include "unified.h"')
    w('')
    w('/* The generator lays the forwarders out: clang-format would read the parameter lists')
    w(' * inside the macro as expressions. */')
    w('/* clang-format off */')
    count = 0
    last_header = None
    for header, name, ret, params in decls:
        if name in HAND_WRITTEN:
            continue
        if ret != 'af_err':
            sys.exit('%s returns %s: add it to HAND_WRITTEN and write it in unified.c'
                     % (name, ret))
        args_list = param_names(name, params)
        if header != last_header:
            w('/* %s */' % header)
            last_header = header
        proto_params = params if params else 'void'
        w(forwarder(name, proto_params, args_list))
        count += 1
    w('/* clang-format on */')
    w('')
    w('/* %d forwarders. */' % count)
    text = '\n'.join(out) + '\n'

    if args.check:
        try:
            with open(OUTPUT, encoding='utf-8') as f:
                current = f.read()
        except FileNotFoundError:
            current = ''
        if current != text:
            print('%s is stale: run scripts/gen_unified.py' % os.path.relpath(OUTPUT, ROOT))
            return 1
        return 0
    with open(OUTPUT, 'w', encoding='utf-8') as f:
        f.write(text)
    print('wrote %s: %d forwarders from %s' % (os.path.relpath(OUTPUT, ROOT), count, rel_api))
    return 0


if __name__ == '__main__':
    sys.exit(main())
