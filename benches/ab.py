#!/usr/bin/env python3
# ab.py RUNS cmd1 -- cmd2 [-- cmd3]: the commands run alternately (after two
# warm-up rounds), so drift hits them alike; prints each one's median, 25th
# percentile and minimum wall time in ms. Output goes to /dev/null.
import subprocess, sys, time, statistics, os
runs=int(sys.argv[1]); cmds=[]; cur=[]
for a in sys.argv[2:]:
    if a=='--': cmds.append(cur); cur=[]
    else: cur.append(a)
cmds.append(cur)
t=[[] for _ in cmds]
dn=open(os.devnull,'w')
for i in range(runs+2):
    for j,c in enumerate(cmds):
        s=time.perf_counter(); subprocess.run(c,stdout=dn,stderr=dn); e=time.perf_counter()
        if i>=2: t[j].append((e-s)*1e3)
for c,x in zip(cmds,t):
    x.sort()
    print("median %7.2f  p25 %7.2f  min %7.2f  %s"%(statistics.median(x), x[len(x)//4], x[0], ' '.join(c)[-60:]))
