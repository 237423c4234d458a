#!/usr/bin/env python3
# Writes docs/results.md and copies the pictures to docs/images/results/ from the output of one result-table run:
#   dotnet run -c Release --project samples/LatentKit.Samples.ResultTable -- --output output/result-table
#   python3 eng/results-page.py output/result-table . [idle|shared]
# The third argument says whether the machine was otherwise idle during the run (default) or shared with other work.
# A run that has not finished every scenario yet gives a page that says which rows are missing.
import json, shutil, sys, os, re
out = sys.argv[1]            # run output directory
repo = sys.argv[2]           # repository root
shared = len(sys.argv) > 3 and sys.argv[3] == 'shared'
doc = json.load(open(os.path.join(out, 'results.json')))
md = open(os.path.join(out, 'results.md')).read()
table = '\n'.join(l for l in md.splitlines() if l.startswith('|'))
env = doc['environment']
img_dir = os.path.join(repo, 'docs', 'images', 'results')
os.makedirs(img_dir, exist_ok=True)
def wall(s):
    s = int(round(s)); return f"{s//3600}:{s%3600//60:02d}:{s%60:02d}"
lines = []
lines.append('# Results of a real run\n')
lines.append('The result table of the reference study as LatentKit reproduces it, from one run of the result-table sample with its '
             'default settings (every scenario preset as it is, the full 60,000 training and 10,000 test images), and the '
             'pictures that run wrote. How we read the original and what the presets contain: [the four scenarios](articles/scenarios.md).\n')
lines.append('```bash\ndotnet run -c Release --project samples/LatentKit.Samples.ResultTable\n```\n')
lines.append('## The table\n')
lines.append(table + '\n')
lines.append("Autoencoder loss: mean per-pixel binary cross-entropy of the reconstructions of the 10,000 test images; for the VAE, "
             "of the decoded means, with the mean KL divergence per image in brackets. Classifier accuracy: top-1 on the 10,000 test "
             "images, the encoder frozen. A row meets the original when its loss is at most the original's (rows 1-3) and its "
             "accuracy at least the original's. Row 4: the original's 0.050 cannot be a mean per-pixel BCE (a VAE reconstructs worse "
             "than the plain autoencoders' 0.079-0.087); it is probably another quantity, so our BCE is not compared with it.\n")
missing = [n for n in doc['settings']['scenarios'] if n not in [s['scenario'] for s in doc['scenarios']]]
if missing:
    lines.append(f"**Incomplete run:** scenario(s) {', '.join(map(str, missing))} had not finished when this page was written, "
                 "so their rows are missing here; the wall time below covers the finished scenarios only.\n")
lines.append('## The machine\n')
lines.append(f"- 2 logical processors (x64), 24 GiB of memory ({env['memoryGiB']} GiB available to the process), {env['operatingSystem']}\n"
             f"- {env['dotnetVersion']}, TorchSharp {env['torchSharpVersion']} on the CPU (`TorchSharp-cpu`), LatentKit {env['latentKitVersion']}, "
             f"{env['torchThreads']} TorchSharp threads\n"
             f"- Run started {doc['startedAt'][:16].replace('T', ' ')} UTC; {'wall time so far' if missing else 'total wall time'} {wall(doc['totalWallTimeSeconds'])} (loading MNIST from the cache excluded)\n"
             + ("- **The two cores were shared** with other builds, tests and benchmarks during the run, so the wall times are longer than "
             "on an idle machine; the figures themselves do not depend on it.\n" if shared else
                "- Nothing else ran on the machine during the run.\n"))
lines.append('## Per scenario\n')
for s in doc['scenarios']:
    n = s['scenario']
    lines.append(f"### Scenario {n}: {s['name']}\n")
    lines.append(s['description'] + '\n')
    kl = f", KL {s['klDivergence']:.2f} per image" if s['klDivergence'] is not None else ''
    recall = ', '.join(f"{d}: {r:.3f}" for d, r in enumerate(s['perClassRecall']))
    ae = s['autoencoderTraining']; cl = s['classifierTraining']
    lines.append(f"Test BCE {s['autoencoderLoss']:.4f}, MSE {s['meanSquaredError']:.4f}{kl}; accuracy {s['classifierAccuracy']:.4f} "
                 f"(original: loss {s['originalLoss']:.3f}, accuracy {s['originalAccuracy']:.2f}). "
                 f"Autoencoder: {ae['epochs']} epochs, batch {ae['batchSize']}, learning rate {ae['learningRate']:g}, {ae['optimizer']}, seed {ae['seed']}; "
                 f"classifier: {cl['epochs']} epochs, batch {cl['batchSize']}, learning rate {cl['learningRate']:g}. Wall time {wall(s['wallTimeSeconds'])}.\n")
    lines.append(f"Per-digit recall: {recall}.\n")
    captions = {
        'reconstructions': 'The first 16 test digits (top) and their reconstructions (bottom).',
        'autoencoder-loss': 'Autoencoder loss per epoch: training, and on the test images after each epoch (monitoring only; it never steers training).',
        'classifier-loss': 'Classifier loss per epoch: training and test.',
        'latent-pca': 'The 10,000 test codes' + (' (means)' if s['klDivergence'] is not None else '') + ' projected on their two principal components, coloured by digit.',
        'prior-samples': '64 digits decoded from codes drawn from the standard normal prior (seed 2024).',
    }
    for f in s['files']:
        if not f.endswith('.png'): continue
        shutil.copyfile(os.path.join(out, f), os.path.join(img_dir, f))
        key = re.sub(r'^scenario-\d-', '', f[:-4])
        lines.append(f"{captions.get(key, '')}\n\n![{key.replace('-', ' ')}, scenario {n}](images/results/{f})\n")
open(os.path.join(repo, 'docs', 'results.md'), 'w').write('\n'.join(lines))
print(table)
