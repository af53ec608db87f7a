#!/usr/bin/env python3
"""Refill the output lines of doc/tutorial.md's transcripts from a real run.

    python3 tools/tutorial_fill.py doc/tutorial.md ./deltalab build/tests/ptyrun

Reads every ```lua block that starts with "> ", keeps its input lines ("> ",
">> ") and replaces everything else with what the program prints for them,
typed through ptyrun (one session per "<!-- session: NAME -->" part, run in a
temporary directory). An input followed by a "..." line keeps "..." instead of
its output. Review the diff before committing: the page is documentation and
tests/e2e/tutorial.sh checks it against the program from then on.
"""
import re, subprocess, sys, os, tempfile
md_path, dl, pty = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
lines = open(md_path).read().split('\n')
# parse: list of items; blocks are dicts
out_lines = []
blocks = []  # (session, [units]) units = {'input':[...], 'elide':bool}
i = 0; session = 'main'
structure = []  # list of ('text', line) or ('block', idx)
while i < len(lines):
    l = lines[i]
    m = re.match(r'<!-- session: (\w+) -->', l)
    if m: session = m.group(1)
    if l == '```lua' and i + 1 < len(lines) and lines[i+1].startswith('> '):
        j = i + 1; body = []
        while lines[j] != '```': body.append(lines[j]); j += 1
        units = []
        for b in body:
            if b.startswith('> '): units.append({'input': [b], 'elide': False})
            elif b.startswith('>> '): units[-1]['input'].append(b)
            elif b == '...': units[-1]['elide'] = True
        blocks.append((session, units))
        structure.append(('text', '```lua')); structure.append(('block', len(blocks) - 1)); structure.append(('text', '```'))
        i = j + 1; continue
    structure.append(('text', l)); i += 1
# run per session
results = {}
sessions = []
for s, _ in blocks:
    if s not in sessions: sessions.append(s)
work = tempfile.mkdtemp()
for s in sessions:
    t = ['@timeout 120000']
    order = []
    for bi, (bs, units) in enumerate(blocks):
        if bs != s: continue
        for ui, u in enumerate(units):
            t += u['input']; t.append('@@@never@@@'); order.append((bi, ui))
    path = os.path.join(work, s + '.txt'); open(path, 'w').write('\n'.join(t) + '\n')
    r = subprocess.run([pty, dl, path], capture_output=True, text=True, cwd=work)
    got = []
    detail = []
    for ln in r.stdout.split('\n'):
        m = re.match(r'(not )?ok \d+ - (.*)', ln)
        if not m:
            detail.append(ln); continue
        if m.group(2).startswith('line '):
            txt = '\n'.join(detail)
            mm = re.search(r'  got output:\n((?:    .*\n?)*?)  got errors:\n((?:    .*\n?)*)', txt + '\n')
            if mm is None: print('NO DETAIL', ln, txt, file=sys.stderr); got.append([]); detail = []; continue
            outp = [x[5:] for x in mm.group(1).rstrip('\n').split('\n') if x.startswith('    |')]
            errs = mm.group(2).strip()
            if errs != '(nothing)': print('ERRORS in', s, ln, errs, file=sys.stderr)
            got.append(outp)
        detail = []
    assert len(got) == len(order), (s, len(got), len(order), r.stdout[-2000:])
    for (bi, ui), g in zip(order, got): results[(bi, ui)] = g
res = []
for kind, v in structure:
    if kind == 'text': res.append(v); continue
    for ui, u in enumerate(blocks[v][1]):
        res += u['input']
        if u['elide']: res.append('...')
        else: res += results[(v, ui)]
open(md_path, 'w').write('\n'.join(res))
