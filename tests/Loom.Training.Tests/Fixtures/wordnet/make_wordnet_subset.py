# A small WordNet 3.0 subset for the augmentation tests: the index lines of a few lemmas (every part
# of speech they have) and the data lines of all their synsets, copied verbatim from Princeton WordNet
# 3.0 (Debian wordnet-base 1:3.0-37, ../shared/data/wordnet). WordNet 3.0 license: see LICENSE here.
# Run: /usr/bin/python3 make_wordnet_subset.py [WORDNET_DIR]  (default ../../../../../shared/data/wordnet)
import gzip, os, sys
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../../shared/data/wordnet")
lemmas = {"good", "great", "movie", "film", "happy", "quick", "story", "tell", "bad", "boring", "plot", "music", "wonderful", "beautiful", "run", "fast"}
for pos in ["noun", "verb", "adj", "adv"]:
    offsets, index_lines = set(), []
    with gzip.open(os.path.join(src, f"index.{pos}.gz"), "rt") as f:
        for line in f:
            if line.startswith("  "): continue
            fields = line.split()
            if fields[0] in lemmas:
                index_lines.append(line)
                n, p = int(fields[2]), int(fields[3])
                offsets.update(fields[4 + p + 2: 4 + p + 2 + n])
    data_lines = []
    with gzip.open(os.path.join(src, f"data.{pos}.gz"), "rt") as f:
        for line in f:
            if not line.startswith("  ") and line.split(" ", 1)[0] in offsets: data_lines.append(line)
    open(f"index.{pos}", "w").writelines(index_lines)
    open(f"data.{pos}", "w").writelines(data_lines)
    print(pos, len(index_lines), len(data_lines))
