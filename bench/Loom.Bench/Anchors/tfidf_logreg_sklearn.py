# Cross-check of bench/Loom.Bench/Anchors/TfidfLogisticRegression.cs against scikit-learn (Debian python3-sklearn 1.2.1):
# the same vectorizer settings and C values on IMDB train -> test. Run: /usr/bin/python3 bench/Loom.Bench/Anchors/tfidf_logreg_sklearn.py
# Output on 2026-12-02: C=1 0.89592, C=4 0.90532, C=16 0.90648, C=64 0.90656 (438,654 features).
import gzip, json, time
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
def read(p):
    t=[];y=[]
    for l in gzip.open(p,'rt'):
        d=json.loads(l); t.append(d['text']); y.append(1 if d['label']=='pos' else 0)
    return t,y
tr,ytr=read('/work/shared/data/imdb/train.jsonl.gz'); te,yte=read('/work/shared/data/imdb/test.jsonl.gz')
t0=time.time()
v=TfidfVectorizer(ngram_range=(1,2),min_df=2,sublinear_tf=True)
X=v.fit_transform(tr); Xt=v.transform(te)
for C in [1.0,4.0,16.0,64.0]:
    m=LogisticRegression(C=C,max_iter=1000).fit(X,ytr)
    print(C, X.shape[1], (m.predict(Xt)==yte).mean(), time.time()-t0, flush=True)
