import sys,collections
pid=sys.argv[1]; cur=None; agg=collections.Counter(); anon=collections.Counter(); n=collections.Counter()
for l in open('/proc/%s/smaps'%pid):
    p=l.split()
    if '-' in p[0] and len(p)>=5 and not p[0].endswith(':'):
        name=p[5] if len(p)>5 else '[anon]'
        cur=name; n[cur]+=1
    elif p[0]=='Rss:': agg[cur]+=int(p[1])
    elif p[0]=='Anonymous:': anon[cur]+=int(p[1])
for k,v in agg.most_common(25): print("%8d kB rss %8d kB anon %5d maps  %s"%(v,anon[k],n[k],k))
