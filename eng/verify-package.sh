#!/usr/bin/env bash
# Verifies the LatentKit packages as a user gets them:
#   1. packs LatentKit, LatentKit.Imaging, LatentKit.Csv and LatentKit.Onnx (unique prerelease version, so no stale
#      cached package can be picked) into a temporary feed and checks the packages' contents and metadata;
#   2. creates, outside the repository, a console app that references only these packages and TorchSharp-cpu from that
#      feed (its Program.cs is eng/verify-package/Program.cs), builds it and runs it: it loads MNIST, runs a backward
#      pass, writes a folder of 3 x 32 x 32 PNGs in 4 classes (ImageFolder.Load) and a CSV file of 30-wide rows in 2
#      classes (CsvDataset.Load), trains convolutional, convolutional variational, dense and
#      variational autoencoders and two classifiers on them (losses must fall, accuracies beat chance clearly), an
#      autoencoder on its own TorchSharp modules (saved, loaded with AutoencoderFile.LoadCustom, same reconstruction),
#      stops a run from a callback, and resumes a run from a ModelCheckpoint file (same loss as the run in one go).
#      TorchSharp must load: the package's buildTransitive/LatentKit.targets has to patch
#      the app's copy of libLibTorchSharp.so on Linux systems without GLIBCXX_3.4.32, such as Debian 12;
#   3. publishes it and runs the published app (the publish copy must be patched too);
#   4. builds it with -p:LatentKitPatchLibTorchSharp=false and checks that the output copy is left untouched;
#   5. builds and runs a second app that references only LatentKit.Imaging and TorchSharp-cpu: the core's
#      buildTransitive patch must reach it through the Imaging package's dependency;
#   6. the consumer app exports every exportable model kind (encoder, decoder, autoencoder of
#      the dense, convolutional, variational and convolutional variational models on MNIST and of a convolutional
#      model on 3 x 30 x 30 images, and a classifier) from the packed packages with TorchSharp's
#      outputs beside them, and a second app outside the repository that references only ONNX Runtime (no LatentKit,
#      no TorchSharp in its folder) reproduces those outputs within 1e-5 and the classifier's accuracy exactly; and it
#      exports an anomaly detector (dense autoencoder trained on MNIST 0s, Combined score, threshold calibrated on
#      held-out 0s) with OnnxExport.Detector, whose scores ONNX Runtime reproduces within 1e-5 * max(1, |score|) and
#      whose flags it reproduces exactly on 500 MNIST test images.
# The NuGet cache copy of libLibTorchSharp.so must stay byte-identical throughout.
#
# Usage: eng/verify-package.sh            (KEEP=1 keeps the temporary folder for inspection)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

torchsharp_version=0.107.0
version="0.1.0-verify.$(date -u +%Y%m%d%H%M%S)"
work="$(mktemp -d "${TMPDIR:-/tmp}/latentkit-verify.XXXXXX")"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cache_so="$packages/torchsharp/$torchsharp_version/runtimes/linux-x64/native/libLibTorchSharp.so"

cleanup() {
    # The unique prerelease version is of no use to anyone after this run: drop it from the package cache.
    local id
    for id in latentkit latentkit.imaging latentkit.csv latentkit.onnx; do
        rm -rf "${packages:?}/$id/$version"
        rmdir "$packages/$id" 2>/dev/null || true
    done
    if [[ "${KEEP:-0}" == "1" ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

fail() { echo "verify-package: FAILED: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }
# Writes a net10.0 console app's project file $1 with a package reference for each further "Id=Version" argument.
write_console_project() {
    local project="$1"
    shift
    {
        printf '%s\n' '<Project Sdk="Microsoft.NET.Sdk">' '  <PropertyGroup>' '    <OutputType>Exe</OutputType>' \
            '    <TargetFramework>net10.0</TargetFramework>' '    <Nullable>enable</Nullable>' \
            '    <ImplicitUsings>enable</ImplicitUsings>' '  </PropertyGroup>' '  <ItemGroup>'
        local reference
        for reference in "$@"; do
            printf '    <PackageReference Include="%s" Version="%s" />\n' "${reference%%=*}" "${reference#*=}"
        done
        printf '%s\n' '  </ItemGroup>' '</Project>'
    } >"$project"
}

case "$work" in "$repo"/*) fail "the temporary folder $work is inside the repository" ;; esac

# ---------------------------------------------------------------------------------------------------------------
step "pack LatentKit, LatentKit.Imaging and LatentKit.Csv $version"
for project in LatentKit LatentKit.Imaging LatentKit.Csv; do
    dotnet pack "$repo/src/$project/$project.csproj" -c Release -nodeReuse:false \
        --artifacts-path "$work/artifacts" -o "$work/feed" -p:Version="$version"
done

nupkg="$work/feed/LatentKit.$version.nupkg"
snupkg="$work/feed/LatentKit.$version.snupkg"
[[ -f "$nupkg" ]] || fail "no $nupkg"
[[ -f "$snupkg" ]] || fail "no $snupkg"
ls -l "$nupkg" "$snupkg"

entries="$(unzip -Z1 "$nupkg")"
for entry in README.md LatentKit.nuspec \
             lib/net8.0/LatentKit.dll lib/net8.0/LatentKit.xml \
             lib/net10.0/LatentKit.dll lib/net10.0/LatentKit.xml \
             buildTransitive/LatentKit.targets buildTransitive/LibTorchSharpGlibcxxPatch.cs; do
    grep -qxF "$entry" <<<"$entries" || fail "the package lacks $entry"
done
# (Listings go through variables, not pipes into grep -q: with pipefail, grep -q's early exit would fail the pipe.)
symbol_entries="$(unzip -Z1 "$snupkg")"
for entry in lib/net8.0/LatentKit.pdb lib/net10.0/LatentKit.pdb; do
    grep -qxF "$entry" <<<"$symbol_entries" || fail "the symbol package lacks $entry"
done

nuspec="$(unzip -p "$nupkg" LatentKit.nuspec)"
for pattern in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<description>.+</description>' \
               '<tags>.*autoencoder.*</tags>' '<repository type="git" url="https://[^"]+"' "<version>$version</version>" \
               "<dependency id=\"TorchSharp\" version=\"$torchsharp_version\""; do
    grep -Eq "$pattern" <<<"$nuspec" || fail "the nuspec lacks $pattern"
done

imaging_nupkg="$work/feed/LatentKit.Imaging.$version.nupkg"
[[ -f "$imaging_nupkg" ]] || fail "no $imaging_nupkg"
[[ -f "$work/feed/LatentKit.Imaging.$version.snupkg" ]] || fail "no LatentKit.Imaging.$version.snupkg"
imaging_entries="$(unzip -Z1 "$imaging_nupkg")"
for entry in README.md LatentKit.Imaging.nuspec \
             lib/net8.0/LatentKit.Imaging.dll lib/net8.0/LatentKit.Imaging.xml \
             lib/net10.0/LatentKit.Imaging.dll lib/net10.0/LatentKit.Imaging.xml; do
    grep -qxF "$entry" <<<"$imaging_entries" || fail "the Imaging package lacks $entry"
done
imaging_nuspec="$(unzip -p "$imaging_nupkg" LatentKit.Imaging.nuspec)"
for pattern in '<license type="expression">MIT</license>' '<readme>README.md</readme>' "<version>$version</version>" \
               '<dependency id="SkiaSharp" '; do
    grep -Eq "$pattern" <<<"$imaging_nuspec" || fail "the Imaging nuspec lacks $pattern"
done
# The Imaging package depends on LatentKit of the same version. NuGet writes exclude="Build,Analyzers" on it (the
# default for a project reference); the core's patch still reaches an app that references LatentKit.Imaging only,
# because buildTransitive assets flow through such a dependency: step 5 checks that end to end.
core_dependencies="$(grep -F "<dependency id=\"LatentKit\" version=\"$version\"" <<<"$imaging_nuspec" || true)"
[[ "$(wc -l <<<"$core_dependencies")" == 2 ]] || fail "the Imaging nuspec lacks a dependency on LatentKit $version per framework: $core_dependencies"

csv_nupkg="$work/feed/LatentKit.Csv.$version.nupkg"
[[ -f "$csv_nupkg" ]] || fail "no $csv_nupkg"
csv_entries="$(unzip -Z1 "$csv_nupkg")"
for entry in README.md LatentKit.Csv.nuspec lib/net8.0/LatentKit.Csv.dll lib/net10.0/LatentKit.Csv.dll; do
    grep -qxF "$entry" <<<"$csv_entries" || fail "the LatentKit.Csv package lacks $entry"
done
csv_nuspec="$(unzip -p "$csv_nupkg" LatentKit.Csv.nuspec)"
for pattern in "<dependency id=\"LatentKit\" version=\"$version\"" '<dependency id="Sep" ' "<version>$version</version>" '<readme>README.md</readme>'; do
    grep -Eq "$pattern" <<<"$csv_nuspec" || fail "the LatentKit.Csv nuspec lacks $pattern"
done
echo "package contents and metadata: ok"

step "pack LatentKit.Onnx $version"
dotnet pack "$repo/src/LatentKit.Onnx/LatentKit.Onnx.csproj" -c Release -nodeReuse:false \
    --artifacts-path "$work/artifacts" -o "$work/feed" -p:Version="$version"
onnx_nupkg="$work/feed/LatentKit.Onnx.$version.nupkg"
[[ -f "$onnx_nupkg" ]] || fail "no $onnx_nupkg"
onnx_entries="$(unzip -Z1 "$onnx_nupkg")"
for entry in README.md LatentKit.Onnx.nuspec lib/net8.0/LatentKit.Onnx.dll lib/net8.0/LatentKit.Onnx.xml \
             lib/net10.0/LatentKit.Onnx.dll lib/net10.0/LatentKit.Onnx.xml; do
    grep -qxF "$entry" <<<"$onnx_entries" || fail "the LatentKit.Onnx package lacks $entry"
done
onnx_nuspec="$(unzip -p "$onnx_nupkg" LatentKit.Onnx.nuspec)"
# LatentKit.Onnx reads the core's internals, so it depends on exactly the core of its version ([x.y.z]).
for pattern in "<dependency id=\"LatentKit\" version=\"\\[$version\\]\"" '<dependency id="OnnxSharp" version="0.3.2"' \
               '<dependency id="Google.Protobuf" version="3.36.2"' '<license type="expression">MIT</license>' '<readme>README.md</readme>'; do
    grep -Eq "$pattern" <<<"$onnx_nuspec" || fail "the LatentKit.Onnx nuspec lacks $pattern"
done
echo "LatentKit.Onnx package contents and metadata: ok"

# ---------------------------------------------------------------------------------------------------------------
step "consumer app in $work/app"
app="$work/app"
mkdir -p "$app"
# Stop MSBuild's and NuGet's upward search for repository-level files at the app's folder.
echo '<Project />' >"$app/Directory.Build.props"
echo '<Project />' >"$app/Directory.Build.targets"
cat >"$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
</configuration>
EOF
write_console_project "$app/VerifyApp.csproj" "LatentKit=$version" "LatentKit.Imaging=$version" "LatentKit.Csv=$version" "LatentKit.Onnx=$version" "TorchSharp-cpu=$torchsharp_version"
# The app prints one VERIFY line per check (and throws on a failed one); the script looks for each of them below.
cp "$repo/eng/verify-package/Program.cs" "$app/Program.cs"

# The ONNX-Runtime-only app: no LatentKit, no TorchSharp. It checks every exported graph against TorchSharp's outputs.
serve="$work/serve"
mkdir -p "$serve"
cp "$app/Directory.Build.props" "$app/Directory.Build.targets" "$app/nuget.config" "$serve/"
write_console_project "$serve/ServeApp.csproj" "Microsoft.ML.OnnxRuntime=1.31.1"
cat >"$serve/Program.cs" <<'EOF'
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var folder = args[0];
float[] Floats(string name) { var b = File.ReadAllBytes(Path.Combine(folder, name)); var f = new float[b.Length / 4]; Buffer.BlockCopy(b, 0, f, 0, b.Length); return f; }
var failures = 0;
foreach (var line in File.ReadAllLines(Path.Combine(folder, "cases.txt")))
{
    var p = line.Split('|');
    using var session = new InferenceSession(Path.Combine(folder, p[0]));
    var dims = p[3].Split(',').Select(int.Parse).ToArray();
    var input = Floats(p[2]).AsSpan(0, dims.Aggregate(1, (a, d) => a * d)).ToArray();
    using var results = session.Run([NamedOnnxValue.CreateFromTensor(p[1], new DenseTensor<float>(input, dims))]);
    var actual = results.First(r => r.Name == p[4]).AsTensor<float>().ToArray();
    var expected = Floats(p[5]);
    var worst = actual.Length == expected.Length ? actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max() : float.PositiveInfinity;
    var ok = worst <= 1e-5f;
    failures += ok ? 0 : 1;
    Console.WriteLine($"VERIFY-ONNX {p[0]} {p[4]} max-diff={worst:E2} {(ok ? "ok" : "MISMATCH")}");
}

using (var classifier = new InferenceSession(Path.Combine(folder, "classifier.onnx")))
{
    var images = Floats("test-images.bin");
    var labels = File.ReadAllBytes(Path.Combine(folder, "test-labels.bin"));
    using var results = classifier.Run([NamedOnnxValue.CreateFromTensor("images", new DenseTensor<float>(images, [labels.Length, 784]))]);
    var predicted = results.First(r => r.Name == "label").AsTensor<long>().ToArray();
    var correct = predicted.Where((c, i) => c == labels[i]).Count();
    Console.WriteLine($"VERIFY-ONNX classifier accuracy {(double)correct / labels.Length:F4}");
}

// The anomaly detector: scores within 1e-5 * max(1, |score|) of LatentKit's, flags identical; threshold from the metadata.
using (var detector = new InferenceSession(Path.Combine(folder, "detector.onnx")))
{
    var flagBytes = File.ReadAllBytes(Path.Combine(folder, "detector-flags.bin"));
    var n = flagBytes.Length;
    var images = Floats("detector-images.bin");
    var scoreBytes = File.ReadAllBytes(Path.Combine(folder, "detector-scores.bin"));
    var expected = new double[scoreBytes.Length / 8];
    Buffer.BlockCopy(scoreBytes, 0, expected, 0, scoreBytes.Length);
    using var results = detector.Run([NamedOnnxValue.CreateFromTensor("images", new DenseTensor<float>(images, [n, 784]))]);
    var scores = results.First(r => r.Name == "score").AsTensor<double>().ToArray();
    var flags = results.First(r => r.Name == "is_anomaly").AsTensor<bool>().ToArray();
    var metadata = detector.ModelMetadata.CustomMetadataMap;
    var worst = 0.0;
    var worstRatio = scores.Length == n && expected.Length == n ? 0.0 : double.PositiveInfinity;
    for (var i = 0; i < Math.Min(scores.Length, expected.Length); i++)
    {
        var difference = Math.Abs(scores[i] - expected[i]);
        worst = Math.Max(worst, difference);
        worstRatio = Math.Max(worstRatio, difference / (1e-5 * Math.Max(1, Math.Abs(expected[i]))));
    }

    var sameFlags = flags.Length == n && flags.Select((f, i) => f == (flagBytes[i] == 1)).All(same => same);
    var ok = worstRatio <= 1 && sameFlags;
    failures += ok ? 0 : 1;
    Console.WriteLine($"VERIFY-ONNX detector.onnx score ({metadata["latentkit.score_kind"]}) max-diff={worst:E2} ({worstRatio:P1} of the tolerance), threshold {metadata["latentkit.threshold"]}, {flags.Count(f => f)} of {n} flagged, flags {(sameFlags ? "identical" : "DIFFER")} {(ok ? "ok" : "MISMATCH")}");
}

return failures == 0 ? 0 : 1;
EOF

expect_output() { # $1 = program output, $2... = lines that must be in it
    local output="$1"; shift
    echo "$output"
    for line in "$@"; do
        grep -qxF "$line" <<<"$output" || fail "the app did not print: $line"
    done
}
expect_prefixes() { # $1 = program output, $2... = starts of lines that must be in it
    local output="$1"; shift
    for prefix in "$@"; do
        awk -v p="$prefix" 'index($0, p) == 1 { found = 1 } END { exit !found }' <<<"$output" || fail "the app printed no line starting: $prefix"
    done
}
full_lines=("VERIFY latentkit-version $version" "VERIFY mnist test count=10000 first-labels=7,2,1,0 shape=4x1x28x28" "VERIFY backward loss=14 grad=2,-4,6"
            "VERIFY images count=96 shape=3x32x32 classes=blue,green,red,striped" "VERIFY csv count=240 shape=30 classes=off,on"
            "VERIFY custom-ae LoadCustom round trip: equal reconstructions (3072 values)" "VERIFY callback stop epochs=2 of 20 reason=stopped after 2 epochs")
full_prefixes=("VERIFY convolutional-ae loss fell:" "VERIFY images-classifier accuracy" "VERIFY images-classifier epoch figures:"
               "VERIFY csv-classifier epoch figures:" "VERIFY convolutional-vae loss fell:"
               "VERIFY dense-ae loss fell:" "VERIFY csv-classifier accuracy" "VERIFY variational-ae loss fell:"
               "VERIFY custom-ae loss fell:" "VERIFY checkpoint resume from resume-0003.lkcheckpoint: epoch 6 loss equals the uninterrupted run's"
               "VERIFY done in")

# A patched copy differs from the NuGet cache copy in exactly one byte (vna_flags 0 -> 2, VER_FLG_WEAK).
check_patched() {
    local so="$1"
    [[ -f "$so" ]] || fail "no $so"
    if [[ -f "$cache_so" ]]; then
        local diff
        diff="$(cmp -l "$cache_so" "$so" || true)"
        [[ "$(wc -l <<<"$diff")" == 1 && "$(awk '{print $2, $3}' <<<"$diff")" == "0 2" ]] \
            || fail "$so is not the cache copy with the one flag set: $diff"
    fi
    if command -v readelf >/dev/null; then
        readelf -V "$so" | grep -F 'Name: GLIBCXX_3.4.32  Flags: WEAK' >/dev/null || fail "readelf: GLIBCXX_3.4.32 is not weak in $so"
    fi
    local leftovers
    leftovers="$(find "$(dirname "$so")" -maxdepth 1 -name 'libLibTorchSharp.so.latentkit-*.tmp')"
    [[ -z "$leftovers" ]] || fail "the patch step left temporary files: $leftovers"
    echo "patched: $so"
}
check_cache_untouched() {
    [[ -f "$cache_so" ]] || return 0
    if command -v readelf >/dev/null; then
        readelf -V "$cache_so" | grep -F 'Name: GLIBCXX_3.4.32  Flags: none' >/dev/null || fail "the NuGet cache copy $cache_so was changed"
    fi
}

step "build and run"
dotnet build "$app" -c Release -nodeReuse:false
check_patched "$app/bin/Release/net10.0/runtimes/linux-x64/native/libLibTorchSharp.so"
check_cache_untouched
mkdir -p "$work/run"
started=$SECONDS
output="$(dotnet "$app/bin/Release/net10.0/VerifyApp.dll" "$work/run")" || { echo "$output"; fail "the app failed"; }
expect_output "$output" "${full_lines[@]}"
expect_prefixes "$output" "${full_prefixes[@]}"
echo "the consumer app ran in $((SECONDS - started)) s"
# Each output folder holds TorchSharp's native libraries for every platform (about 1 GB): drop each one once checked,
# so this check needs about 1 GB of disk at a time instead of 4-5 GB.
rm -rf "$app/bin"

step "publish and run the published app"
dotnet publish "$app" -c Release -nodeReuse:false -o "$work/publish"
check_patched "$work/publish/runtimes/linux-x64/native/libLibTorchSharp.so"
check_cache_untouched
rm -rf "$work/run" && mkdir -p "$work/run"
output="$(dotnet "$work/publish/VerifyApp.dll" "$work/run")" || { echo "$output"; fail "the published app failed"; }
expect_output "$output" "${full_lines[@]}"
expect_prefixes "$output" "${full_prefixes[@]}"
# The ONNX files for step 6, exported by the published app from the packed packages.
dotnet "$work/publish/VerifyApp.dll" "$work/run-onnx" --onnx "$work/onnx"
rm -rf "$work/publish"

step "opt out: -p:LatentKitPatchLibTorchSharp=false"
dotnet build "$app" -c Release -nodeReuse:false -p:LatentKitPatchLibTorchSharp=false -o "$work/optout"
optout_so="$work/optout/runtimes/linux-x64/native/libLibTorchSharp.so"
[[ -f "$optout_so" ]] || fail "no $optout_so"
if [[ -f "$cache_so" ]]; then
    cmp -s "$cache_so" "$optout_so" || fail "$optout_so was changed although the step was switched off"
fi
echo "untouched: $optout_so"
check_cache_untouched
rm -rf "$work/optout"

# ---------------------------------------------------------------------------------------------------------------
step "an app that references only LatentKit.Imaging (and TorchSharp-cpu)"
imaging_app="$work/imaging-app"
mkdir -p "$imaging_app"
cp "$app/Directory.Build.props" "$app/Directory.Build.targets" "$app/nuget.config" "$imaging_app/"
write_console_project "$imaging_app/ImagingOnlyApp.csproj" "LatentKit.Imaging=$version" "TorchSharp-cpu=$torchsharp_version"
cat >"$imaging_app/Program.cs" <<'EOF'
using LatentKit;
using LatentKit.Imaging;
using static TorchSharp.torch;

// Touches both packages and the native TorchSharp (which loads only if the patch reached this app on Debian 12).
Console.WriteLine($"VERIFY imaging-only {LatentKitInfo.Version} {typeof(ImageFolder).Assembly.GetName().Name}");
using var x = tensor(new float[] { 1f, -2f, 3f }, requires_grad: true);
using var loss = (x * x).sum();
loss.backward();
Console.WriteLine($"VERIFY backward loss={loss.item<float>()} grad={string.Join(",", x.grad!.data<float>().ToArray())}");
EOF
dotnet build "$imaging_app" -c Release -nodeReuse:false
check_patched "$imaging_app/bin/Release/net10.0/runtimes/linux-x64/native/libLibTorchSharp.so"
check_cache_untouched
output="$(dotnet "$imaging_app/bin/Release/net10.0/ImagingOnlyApp.dll")" || { echo "$output"; fail "the Imaging-only app failed"; }
expect_output "$output" "VERIFY imaging-only $version LatentKit.Imaging" "VERIFY backward loss=14 grad=2,-4,6"
rm -rf "$imaging_app/bin"

step "reproduce every model kind exported from the packed packages (step 3) with ONNX Runtime only"
dotnet build "$serve" -c Release -nodeReuse:false -o "$work/serve-out"
torch_files="$(find "$work/serve-out" -iname '*torch*' -o -iname 'LatentKit*')"
[[ -z "$torch_files" ]] || fail "the ONNX Runtime app's folder holds TorchSharp or LatentKit files: $torch_files"
serve_output="$(dotnet "$work/serve-out/ServeApp.dll" "$work/onnx")" || { echo "$serve_output"; fail "ONNX Runtime did not reproduce TorchSharp's outputs within 1e-5"; }
echo "$serve_output"
[[ "$(grep -c ' ok$' <<<"$serve_output")" == 17 ]] || fail "expected 16 graphs within 1e-5 and the detector within 1e-5 * max(1, |score|)"
grep -qF "VERIFY-ONNX detector.onnx score (Combined) " <<<"$serve_output" || fail "the ONNX Runtime app did not check the Combined-score detector"
grep -qF ", $(cat "$work/onnx/detector-flagged.txt") of 500 flagged, flags identical ok" <<<"$serve_output" || fail "ONNX Runtime did not flag the detector's samples as LatentKit did"
expect_output "$serve_output" "VERIFY-ONNX classifier accuracy $(cat "$work/onnx/accuracy.txt")"

echo
echo "verify-package: OK ($(stat -c %s "$nupkg") byte package, $(stat -c %s "$snupkg") byte symbol package)"
