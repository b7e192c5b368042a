#!/usr/bin/env python3
"""Checks that Ember's public headers declare ArrayFire 3.10's C ABI exactly.

The reference is two lists kept next to this script: arrayfire-c-api.md (every C declaration,
grouped by header, with [>=NN] for AF_API_VERSION guards) and arrayfire-c-types.md (every enum
with its values, the structs, typedefs and macros). A mismatch between them and include/ is an ABI
break for programs and bindings built against ArrayFire, so every one is reported and the exit
status is non-zero.

Function names that the headers declare beyond the API list must be named in
ember-extensions.txt, so that a misspelt ArrayFire name cannot pass as an extension.

The headers are read as a C compiler on 64-bit Linux would see them in C mode: comments are
stripped, `#ifdef __cplusplus` blocks are skipped, other conditionals are evaluated, and
`#if AF_API_VERSION >= NN` blocks are kept while their level is recorded so the guards can be
compared too. Declarations are compared as token lists, so whitespace (including around `*`,
parentheses and commas) never matters and everything else does.

Usage:
    abi_check.py                       check every listed declaration is declared and identical
    abi_check.py --implemented FILE    require only the listed names that FILE holds to be declared
                                       (FILE: one name a line, or `nm -D --defined-only lib.so`
                                       output), require implemented Ember extensions to be
                                       declared, and reject exported af_/afcu_ names that are
                                       neither listed nor extensions (a misspelt implementation)
    abi_check.py --selftest            mutate copies of the inputs in memory and assert that every
                                       mutation is caught (and that harmless ones are not)

Standard library only, so it runs on a clean CI machine.
"""

import argparse
import ast
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Macros taken as defined while evaluating conditionals: the view of GCC or Clang on x86-64 or
# AArch64 Linux in C mode, which is the ABI this project ships.
PREDEFINED = {'__GNUC__': '4', '__x86_64__': '1', '__LP64__': '1', '__linux__': '1'}

TOKEN_RE = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'            # string literal
    r"|'(?:[^'\\\n]|\\.)*'"           # character literal
    r'|0[xX][0-9A-Fa-f]+[uUlL]*'      # hexadecimal number
    r'|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[uUlLfF]*'  # decimal number
    r'|[A-Za-z_]\w*'                  # identifier or keyword
    r'|\.\.\.|<<|>>|->|&&|\|\||[<>=!]=|::'
    r'|\S')                           # any other single character


def tokenize(text):
    return TOKEN_RE.findall(text)


def render(tokens):
    """Renders a token list in one canonical spelling, for readable reports."""
    out = ''
    for k, tok in enumerate(tokens):
        prev = tokens[k - 1] if k else None
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if prev is None or tok in (',', ')', ';', ']') or prev in ('(', '[', '~', '!', '*'):
            sep = ''
        elif tok == '(' and nxt != '*' and (re.match(r'^\w', prev) or prev == ')'):
            sep = ''  # a function's name or a parameter list, not a `(*name)` declarator
        else:
            sep = ' '
        out += sep + tok
    return out


def strip_comments(text):
    """Removes comments, keeping line breaks so that line numbers stay right."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '/' and text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(' ' + '\n' * text.count('\n', i, j))
            i = j
        elif c == '/' and text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def eval_int_expr(tokens, names, where):
    """Evaluates a C integer constant expression over known names, safely."""
    py = []
    for tok in tokens:
        if re.match(r'^0[xX]', tok):
            py.append(str(int(tok.rstrip('uUlL'), 16)))
        elif re.match(r'^\d', tok):
            py.append(str(int(tok.rstrip('uUlL'))))
        elif re.match(r'^[A-Za-z_]', tok):
            if tok not in names:
                raise ValueError('%s: unknown name %s in %s' % (where, tok, render(tokens)))
            py.append('(%d)' % names[tok])
        elif tok in ('|', '&', '^', '+', '-', '*', '<<', '>>', '~', '(', ')'):
            py.append(tok)
        else:
            raise ValueError('%s: cannot evaluate %s' % (where, render(tokens)))
    tree = ast.parse(' '.join(py), mode='eval')
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.BitOr, ast.BitAnd,
               ast.BitXor, ast.Add, ast.Sub, ast.Mult, ast.LShift, ast.RShift, ast.Invert,
               ast.USub, ast.UAdd)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError('%s: cannot evaluate %s' % (where, render(tokens)))
    return eval(compile(tree, '<enum>', 'eval'))


def eval_condition(expr, macros):
    """Evaluates an #if condition the way the C preprocessor would, for simple conditions."""
    expr = re.sub(r'defined\s*\(\s*(\w+)\s*\)', lambda m: '1' if m.group(1) in macros else '0',
                  expr)
    expr = re.sub(r'defined\s+(\w+)', lambda m: '1' if m.group(1) in macros else '0', expr)

    def value(m):
        name = m.group(0)
        v = macros.get(name)
        return v if v is not None and re.match(r'^\d+$', v) else '0'
    expr = re.sub(r'[A-Za-z_]\w*', value, expr)
    expr = expr.replace('&&', ' and ').replace('||', ' or ')
    expr = re.sub(r'!(?!=)', ' not ', expr)
    try:
        return bool(eval(expr, {'__builtins__': {}}))
    except Exception:
        return True


class Header:
    """One header seen in C mode: its active tokens, each with line and AF_API_VERSION guard."""

    def __init__(self, path, text):
        self.path = path
        self.tokens = []  # (token, line, guard)
        self.macros = {}
        self.problems = []
        self._preprocess(strip_comments(text))

    def _preprocess(self, text):
        macros = dict(PREDEFINED)
        stack = []  # frames: [active, guard, is_else_taken]
        lines = text.split('\n')
        i = 0
        while i < len(lines):
            lineno = i + 1
            line = lines[i]
            while line.endswith('\\') and i + 1 < len(lines):
                i += 1
                line = line[:-1] + ' ' + lines[i]
            i += 1
            m = re.match(r'^\s*#\s*(\w+)\s*(.*)$', line)
            active = all(f[0] for f in stack)
            if m:
                d, rest = m.group(1), m.group(2).strip()
                if d in ('if', 'ifdef', 'ifndef'):
                    guard = None
                    if d == 'ifdef':
                        cond = rest in macros
                    elif d == 'ifndef':
                        cond = rest not in macros
                    else:
                        g = re.match(r'^AF_API_VERSION\s*>=\s*(\d+)$', rest)
                        if g:
                            guard, cond = int(g.group(1)), True
                        else:
                            cond = eval_condition(rest, macros)
                    stack.append([cond, guard, cond])
                elif d == 'elif':
                    f = stack[-1]
                    cond = not f[2] and eval_condition(rest, macros)
                    f[0], f[2] = cond, f[2] or cond
                elif d == 'else':
                    f = stack[-1]
                    if f[1] is not None:
                        self.problems.append('%s:%d: #else of an AF_API_VERSION guard'
                                             % (self.path, lineno))
                    f[0] = not f[2]
                    f[2] = True
                elif d == 'endif':
                    stack.pop()
                elif d == 'define' and active:
                    dm = re.match(r'^(\w+)(\([^)]*\))?\s*(.*)$', rest)
                    if dm:
                        macros[dm.group(1)] = dm.group(3).strip()
                        self.macros.setdefault(dm.group(1), dm.group(3).strip())
                elif d == 'undef' and active:
                    macros.pop(rest, None)
                continue
            if not active:
                continue
            guards = [f[1] for f in stack if f[1] is not None]
            guard = max(guards) if guards else None
            for tok in tokenize(line):
                self.tokens.append((tok, lineno, guard))
        if stack:
            self.problems.append('%s: unbalanced #if/#endif' % self.path)

    def statements(self):
        """Splits the active tokens into top-level statements ending in `;`."""
        stmts, cur, depth = [], [], 0
        for item in self.tokens:
            tok = item[0]
            cur.append(item)
            if tok in ('{', '('):
                depth += 1
            elif tok in ('}', ')'):
                depth -= 1
            elif tok == ';' and depth == 0:
                stmts.append(cur)
                cur = []
        if [t for t in cur if t[0] != '}']:
            self.problems.append('%s: trailing tokens %s'
                                 % (self.path, render([t[0] for t in cur])))
        return stmts


def function_name(tokens):
    """Returns the name a function declaration declares: the identifier before its first `(`."""
    depth = 0
    for k, tok in enumerate(tokens):
        if tok == '(' and depth == 0 and k > 0 and re.match(r'^[A-Za-z_]\w*$', tokens[k - 1]):
            return tokens[k - 1]
        if tok in ('{',):
            depth += 1
        elif tok == '}':
            depth -= 1
    return None


class Model:
    """What the headers declare, indexed by name."""

    def __init__(self, files):
        self.decls = {}      # function name -> list of (tokens, path, line, guard, has_afapi)
        self.enums = {}      # enum typedef name -> list of (enumerator, value) in order
        self.enum_where = {}
        self.structs = {}    # struct typedef name -> body tokens
        self.typedefs = {}   # plain typedef name -> tokens of the whole statement
        self.statics = {}    # static variable name -> tokens
        self.macros = {}
        self.problems = []
        for path in sorted(files):
            h = Header(path, files[path])
            self.problems.extend(h.problems)
            for name, value in h.macros.items():
                self.macros.setdefault(name, (value, path))
            self._check_extern_c(path, files[path])
            for stmt in h.statements():
                self._classify(stmt, path)

    def _check_extern_c(self, path, text):
        text = strip_comments(text)
        first = re.search(r'^\s*AFAPI\b', text, re.M)
        guard = re.search(r'#\s*ifdef\s+__cplusplus\s*\n\s*extern\s+"C"\s*\{', text)
        if first and (not guard or guard.start() > first.start()):
            self.problems.append('%s: declarations are not inside an extern "C" guard' % path)

    def _classify(self, stmt, path):
        toks = [t[0] for t in stmt]
        line, guard = stmt[0][1], stmt[0][2]
        where = '%s:%d' % (path, line)
        if toks[0] == 'typedef':
            if len(toks) > 2 and toks[1] == 'enum':
                self._enum(toks, where)
            elif len(toks) > 2 and toks[1] == 'struct' and '{' in toks:
                name = toks[-2]
                body = toks[toks.index('{') + 1:len(toks) - 1 - toks[::-1].index('}')]
                self.structs[name] = (body, where)
            else:
                m = None
                for k in range(len(toks) - 2):
                    if toks[k] == '(' and toks[k + 1] == '*':
                        m = toks[k + 2]
                        break
                name = m if m else toks[-2]
                self.typedefs.setdefault(name, []).append((toks, where))
            return
        if toks[0] == 'static':
            name = toks[toks.index('=') - 1] if '=' in toks else toks[-2]
            self.statics[name] = (toks, where)
            return
        if '(' in toks:
            has_afapi = toks[0] == 'AFAPI'
            body = toks[1:] if has_afapi else toks
            name = function_name(body)
            self.decls.setdefault(name, []).append((body, path, line, guard, has_afapi))
            return
        self.problems.append('%s: unrecognised statement %s' % (where, render(toks)))

    def _enum(self, toks, where):
        name = toks[-2]
        body = toks[toks.index('{') + 1:toks.index('}')]
        items, cur = [], []
        for tok in body + [',']:
            if tok == ',':
                if cur:
                    items.append(cur)
                cur = []
            else:
                cur.append(tok)
        values, nxt = [], 0
        known = {k: v for lst in self.enums.values() for k, v in lst}
        for item in items:
            ename = item[0]
            if len(item) > 1:
                if item[1] != '=':
                    self.problems.append('%s: bad enumerator %s' % (where, render(item)))
                    continue
                try:
                    val = eval_int_expr(item[2:], dict(known, **dict(values)), where)
                except ValueError as e:
                    self.problems.append(str(e))
                    continue
            else:
                val = nxt
            values.append((ename, val))
            nxt = val + 1
        self.enums[name] = values
        self.enum_where[name] = where


def parse_api(text):
    """Parses the API list: returns [(header, guard, decl_text, tokens, name)]."""
    out = []
    header = None
    inblock = False
    for raw in text.split('\n'):
        line = raw.strip()
        if line.startswith('```'):
            inblock = not inblock
            continue
        if not inblock or not line:
            continue
        m = re.match(r'^## (\S+)$', line)
        if m:
            header = m.group(1)
            continue
        guard = None
        m = re.match(r'^\[>=(\d+)\]\s*(.*)$', line)
        if m:
            guard, line = int(m.group(1)), m.group(2)
        toks = tokenize(line)
        out.append((header, guard, line, toks, function_name(toks)))
    return out


def parse_types(text):
    """Parses the types list into enums, structs, typedefs, macros and statics."""
    t = {'enums': {}, 'structs': {}, 'typedefs': {}, 'macros': {}, 'statics': {},
         'basic': {}, 'unparsed': []}
    inblock = False
    for raw in text.split('\n'):
        line = raw.strip()
        if line.startswith('```'):
            inblock = not inblock
            continue
        if not inblock or not line:
            continue
        m = re.match(r'^(\w+): (\w+=-?\d+(?:, \w+=-?\d+)*)$', line)
        if m:
            vals = []
            for part in m.group(2).split(', '):
                k, v = part.split('=')
                vals.append((k, int(v)))
            t['enums'][m.group(1)] = vals
            continue
        m = re.match(r'^struct (\w+): (.*)$', line)
        if m:
            body = re.sub(r'\s*\([^()]*\)\s*$', '', m.group(2)).strip()
            if not body.endswith(';'):
                body += ';'
            t['structs'][m.group(1)] = tokenize(body)
            continue
        m = re.match(r'^(typedef .*?);?$', line)
        if m:
            toks = tokenize(m.group(1) + ';')
            name = None
            for k in range(len(toks) - 2):
                if toks[k] == '(' and toks[k + 1] == '*':
                    name = toks[k + 2]
                    break
            t['typedefs'][name or toks[-2]] = toks
            continue
        m = re.match(r'^(static const .*?)\s*(\(.*\))?$', line)
        if m:
            toks = tokenize(m.group(1).rstrip(';') + ';')
            t['statics'][toks[toks.index('=') - 1]] = toks
            continue
        m = re.match(r'^(\w+): (.+?) on .*$', line)
        if m:
            t['basic'][m.group(1)] = tokenize('typedef %s %s;' % (m.group(2), m.group(1)))
            continue
        if re.match(r'^[A-Z_]+ \S+(?:\s*\(.*\))?(?:; [A-Z_]+ \S+(?:\s*\(.*?\))?)*$', line):
            for part in line.split(';'):
                part = re.sub(r'\(.*\)', '', part).strip()
                name, value = part.split(None, 1)
                t['macros'][name] = value.strip()
            continue
        t['unparsed'].append(line)
    return t


def read_implemented(path):
    """Reads function names, one per line, or in the last column of `nm` output."""
    names = set()
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith('#'):
                continue
            # nm lists undefined and weak references too; they are not implementations.
            if len(parts) >= 2 and parts[-2] in ('U', 'w', 'v'):
                continue
            names.add(parts[-1].split('@')[0])
    return names


def read_extensions(text):
    return {line.split('#')[0].strip() for line in text.split('\n')} - {''}


def first_difference(a, b):
    for k in range(max(len(a), len(b))):
        x = a[k] if k < len(a) else '<end>'
        y = b[k] if k < len(b) else '<end>'
        if x != y:
            return k, x, y
    return None


def check(inputs, implemented=None):
    """Runs every check. Returns (mismatch reports, counts)."""
    api = parse_api(inputs['api'])
    types = parse_types(inputs['types'])
    extensions = read_extensions(inputs['extensions'])
    model = Model(inputs['headers'])
    bad = []
    bad.extend('structure: ' + p for p in model.problems)
    bad.extend('types list: unparsed line: ' + u for u in types['unparsed'])

    # (a) Declarations.
    listed = {}
    for header, guard, text, toks, name in api:
        if name is None:
            bad.append('api list: no function name in: %s' % text)
            continue
        if name in listed:
            bad.append('api list: %s is listed twice' % name)
        listed[name] = (header, guard, toks)
    for name, (header, guard, toks) in listed.items():
        found = model.decls.get(name)
        if not found:
            required = implemented is None or name in implemented
            if required:
                why = 'implemented but' if implemented is not None else 'listed but'
                bad.append('%s: %s not declared in include/ (expected in af/%s)'
                           % (name, why, header))
            continue
        if len(found) > 1:
            bad.append('%s: declared %d times (%s)' % (name, len(found), ', '.join(
                '%s:%d' % (p, ln) for _, p, ln, _, _ in found)))
        for body, path, line, hguard, has_afapi in found:
            where = '%s:%d' % (path, line)
            if body != toks:
                k, x, y = first_difference(toks, body)
                bad.append('%s (%s): declaration differs from the API list\n'
                           '    list:   %s\n    header: %s\n'
                           '    first difference at token %d: list %r, header %r'
                           % (name, where, render(toks), render(body), k, x, y))
            if hguard != guard:
                bad.append('%s (%s): guard is %s, the API list says %s' % (
                    name, where, fmt_guard(hguard), fmt_guard(guard)))
            if not has_afapi:
                bad.append('%s (%s): declared without AFAPI, so it would not be exported'
                           % (name, where))
            if path != 'include/af/' + header:
                bad.append('%s (%s): declared in %s, ArrayFire declares it in af/%s'
                           % (name, where, path, header))
    for name, found in sorted(model.decls.items()):
        if name in listed:
            continue
        for body, path, line, _, has_afapi in found:
            where = '%s:%d' % (path, line)
            if name not in extensions:
                bad.append('%s (%s): declared but neither in the API list nor in '
                           'ember-extensions.txt' % (name, where))
            if not has_afapi:
                bad.append('%s (%s): declared without AFAPI' % (name, where))
    if implemented is not None:
        for name in sorted(implemented & extensions):
            if name not in model.decls:
                bad.append('%s: implemented Ember extension not declared in include/' % name)
        # An exported af_ name that nobody declares is most often a misspelt implementation,
        # which leaves the real function missing from the library.
        for name in sorted(implemented - set(listed) - extensions):
            if re.match(r'^af(cu)?_', name):
                bad.append('%s: exported by the library but neither in the API list nor in '
                           'ember-extensions.txt' % name)
    for name in sorted(extensions):
        if name in listed:
            bad.append('%s: in ember-extensions.txt but also in the API list' % name)

    # (b) Enum values.
    n_values = 0
    for ename, values in types['enums'].items():
        n_values += len(values)
        got = model.enums.get(ename)
        if got is None:
            bad.append('enum %s: not defined in include/' % ename)
            continue
        gotd = dict(got)
        where = model.enum_where[ename]
        for k, v in values:
            if k not in gotd:
                bad.append('enum %s (%s): %s missing (expected %d)' % (ename, where, k, v))
            elif gotd[k] != v:
                bad.append('enum %s (%s): %s is %d, the types list says %d'
                           % (ename, where, k, gotd[k], v))
        extra = [k for k, _ in got if k not in dict(values)]
        if extra:
            bad.append('enum %s (%s): enumerators not in the types list: %s'
                       % (ename, where, ', '.join(extra)))

    # (c) Structs, typedefs, macros and statics.
    n_types = 0
    for sname, body in types['structs'].items():
        n_types += 1
        got = model.structs.get(sname)
        if got is None:
            bad.append('struct %s: not defined in include/' % sname)
        elif got[0] != body:
            bad.append('struct %s (%s): fields differ\n    list:   %s\n    header: %s'
                       % (sname, got[1], render(body), render(got[0])))
    for tname, toks in list(types['typedefs'].items()) + list(types['basic'].items()):
        n_types += 1
        got = model.typedefs.get(tname)
        if not got:
            bad.append('typedef %s: not defined in include/' % tname)
            continue
        for gtoks, where in got:
            if gtoks != toks:
                bad.append('typedef %s (%s): differs\n    list:   %s\n    header: %s'
                           % (tname, where, render(toks), render(gtoks)))
    for mname, value in types['macros'].items():
        n_types += 1
        got = model.macros.get(mname)
        if got is None:
            bad.append('macro %s: not defined in include/' % mname)
        elif tokenize(got[0]) != tokenize(value):
            bad.append('macro %s (%s): is %s, the types list says %s'
                       % (mname, got[1], got[0], value))
    for vname, toks in types['statics'].items():
        n_types += 1
        got = model.statics.get(vname)
        if got is None:
            bad.append('%s: not defined in include/' % vname)
        elif got[0] != toks:
            bad.append('%s (%s): differs\n    list:   %s\n    header: %s'
                       % (vname, got[1], render(toks), render(got[0])))
    counts = {'declarations': len(listed), 'enum values': n_values, 'types': n_types}
    return bad, counts


def fmt_guard(g):
    return 'none' if g is None else 'AF_API_VERSION >= %d' % g


def load_inputs(root):
    def read(path):
        with open(os.path.join(root, path)) as f:
            return f.read()
    headers = {}
    inc = os.path.join(root, 'include')
    headers['include/arrayfire.h'] = read('include/arrayfire.h')
    for fn in sorted(os.listdir(os.path.join(inc, 'af'))):
        if fn.endswith('.h'):
            headers['include/af/' + fn] = read('include/af/' + fn)
    return {
        'api': read('tests/abi/arrayfire-c-api.md'),
        'types': read('tests/abi/arrayfire-c-types.md'),
        'extensions': read('tests/abi/ember-extensions.txt'),
        'headers': headers,
    }


def report(bad, counts):
    for b in bad:
        print('MISMATCH ' + b)
    print('abi: %d declarations, %d enum values, %d types and macros checked, %d mismatches'
          % (counts['declarations'], counts['enum values'], counts['types'], len(bad)))
    return 1 if bad else 0


def loose(old):
    """A pattern for old that ignores whitespace, so reformatting the headers keeps the selftest
    working."""
    return re.compile(r'\s*'.join(re.escape(tok) for tok in tokenize(old)))


def replace_once(text, old, new, where):
    m = loose(old).search(text)
    assert m, 'selftest: %r not in %s' % (old, where)
    return text[:m.start()] + new + text[m.end():]


def mutate_decl(text, name, old, new):
    """Replaces old by new inside the declaration of name only."""
    m = re.search(r'\b%s\s*\([^;]*;' % re.escape(name), text)
    assert m, 'selftest: %s not found' % name
    return text[:m.start()] + replace_once(m.group(0), old, new, name) + text[m.end():]


def selftest(root):
    """Mutates copies of the inputs and asserts each break is caught and each no-op is not."""
    base = load_inputs(root)
    base_bad, _ = check(base)
    if base_bad:
        print('selftest: the unmutated tree already has %d mismatches; fix those first'
              % len(base_bad))
        for b in base_bad:
            print('MISMATCH ' + b)
        return 1

    def hdr(path, fn):
        def apply(inp):
            inp['headers'][path] = fn(inp['headers'][path])
        return apply

    def sub(path, old, new):
        return hdr(path, lambda text: replace_once(text, old, new, path))

    alg, dfn, arr = 'include/af/algorithm.h', 'include/af/defines.h', 'include/af/array.h'
    # (description, mutation, expected substring of a report, or None when nothing may change)
    cases = [
        ('parameter type changed', hdr(alg, lambda t: mutate_decl(
            t, 'af_sum', 'const int dim', 'const unsigned dim')), 'af_sum ('),
        ('parameter dropped', hdr(arr, lambda t: mutate_decl(
            t, 'af_get_dims', 'dim_t *d3, ', '')), 'af_get_dims ('),
        ('const dropped from a pointer', hdr('include/af/data.h', lambda t: mutate_decl(
            t, 'af_moddims', 'const dim_t * const dims', 'const dim_t *dims')), 'af_moddims ('),
        ('return type changed', sub('include/af/exception.h', 'AFAPI void af_get_last_error',
                                    'AFAPI af_err af_get_last_error'), 'af_get_last_error'),
        ('whitespace only (must pass)', hdr(arr, lambda t: mutate_decl(
            t, 'af_eval', 'af_eval(af_array in)', 'af_eval  (  af_array\n   in )')), None),
        ('declaration removed', hdr(arr, lambda t: re.sub(
            r'AFAPI\s+af_err\s+af_release_array\s*\([^;]*;', '', t)), 'af_release_array: listed'),
        ('guard level changed', sub(alg, '#if AF_API_VERSION >= 39\n/** Sums all',
                                    '#if AF_API_VERSION >= 38\n/** Sums all'),
         'af_sum_all_array ('),
        ('AFAPI dropped', sub(arr, 'AFAPI af_err af_copy_array', 'af_err af_copy_array'),
         'without AFAPI'),
        ('undeclared extra function', sub(arr, 'AFAPI af_err af_copy_array',
                                          'AFAPI af_err af_copy_arrays(af_array a);\n'
                                          'AFAPI af_err af_copy_array'), 'af_copy_arrays ('),
        ('enum value changed', sub(dfn, 'AF_ERR_ARG = 202', 'AF_ERR_ARG = 203'), 'AF_ERR_ARG'),
        ('implicit value drifts', sub(dfn, 'AF_ERR_BATCH = 207', 'AF_ERR_BATCH'),
         'AF_ERR_BATCH is 206'),
        ('implicit value equal (must pass)', sub(dfn, 'AF_ERR_SIZE = 203', 'AF_ERR_SIZE'), None),
        ('alias retargeted', sub(dfn, 'AF_NORM_EUCLID = AF_NORM_VECTOR_2',
                                 'AF_NORM_EUCLID = AF_NORM_VECTOR_P'), 'AF_NORM_EUCLID is 3'),
        ('enumerator removed', sub(dfn, 'AF_STORAGE_COO = 3', 'AF_STORAGE_COOX = 3'),
         'AF_STORAGE_COO missing'),
        ('struct field type changed', sub('include/af/seq.h', 'double step;', 'int step;'),
         'struct af_seq'),
        ('struct fields reordered', sub('include/af/complex.h', 'float real;\n    float imag;',
                                        'float imag;\n    float real;'), 'struct af_cfloat'),
        ('callback typedef changed', sub('include/af/memory.h', 'int user_lock',
                                         'unsigned user_lock'),
         'typedef af_memory_manager_alloc_fn'),
        ('handle typedef changed', sub(dfn, 'typedef void *af_event;',
                                       'typedef int *af_event;'), 'typedef af_event'),
        ('macro changed', sub(dfn, '#define AF_MAX_DIMS 4', '#define AF_MAX_DIMS 5'),
         'macro AF_MAX_DIMS'),
        ('af_span changed', sub('include/af/seq.h', '{1, 1, 0}', '{0, 1, 0}'), 'af_span'),
        ('extern "C" lost', sub(alg, 'extern "C" {', 'extern "C++" {'), 'extern "C"'),
    ]

    def list_side(inp):
        inp['api'] = inp['api'].replace('af_err af_flat(af_array *out, const af_array in);',
                                        'af_err af_flat(af_array *out, af_array in);')
    cases.append(('declaration changed in the list copy', list_side, 'af_flat ('))

    def list_enum(inp):
        inp['types'] = inp['types'].replace('AF_CONV_FREQ=2', 'AF_CONV_FREQ=3')
    cases.append(('enum changed in the types copy', list_enum, 'AF_CONV_FREQ is 2'))

    failures = 0
    for desc, mutate, expect in cases:
        inp = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
        mutate(inp)
        bad, _ = check(inp)
        if expect is None:
            ok = not bad
        else:
            ok = any(expect in b for b in bad)
        print('selftest: %-40s %s' % (desc, 'ok' if ok else 'NOT CAUGHT'))
        if not ok:
            failures += 1
            for b in bad:
                print('    got: ' + b.split('\n')[0])

    # --implemented: a name the library exports must be declared; an unlisted one is ignored.
    inp = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    inp['headers'][arr] = re.sub(r'AFAPI\s+af_err\s+af_get_type\s*\([^;]*;', '',
                                 inp['headers'][arr])
    bad, _ = check(inp, implemented={'af_get_type', 'af_sum', 'em_internal_helper'})
    ok = any('af_get_type: implemented' in b for b in bad) and len(bad) == 1
    bad2, _ = check(inp, implemented={'af_sum'})
    bad3, _ = check(inp, implemented={'af_sum', 'af_summ'})
    ok = ok and not bad2 and any('af_summ: exported' in b for b in bad3)
    print('selftest: %-40s %s' % ('--implemented requires exported names', 'ok' if ok else
                                   'NOT CAUGHT'))
    failures += 0 if ok else 1

    print('selftest: %d cases, %d failed' % (len(cases) + 1, failures))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=ROOT, help='repository root (default: %(default)s)')
    ap.add_argument('--implemented', metavar='FILE',
                    help='names the library defines, one per line or as `nm -D` prints them')
    ap.add_argument('--selftest', action='store_true', help='check that the checker catches breaks')
    args = ap.parse_args()
    if args.selftest:
        return selftest(args.root)
    implemented = read_implemented(args.implemented) if args.implemented else None
    bad, counts = check(load_inputs(args.root), implemented)
    return report(bad, counts)


if __name__ == '__main__':
    sys.exit(main())
