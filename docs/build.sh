#!/usr/bin/env bash
# Builds the documentation site into docs/_site (not committed): API reference from the XML docs of
# src/LatentKit, src/LatentKit.Imaging, src/LatentKit.Csv and src/LatentKit.Onnx (net10.0) plus the articles. Any docfx
# warning, such as a broken link or an unresolved cross-reference, fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore
# docfx reads the project through MSBuild, which needs its restore output.
dotnet restore src/LatentKit/LatentKit.csproj
dotnet restore src/LatentKit.Imaging/LatentKit.Imaging.csproj
dotnet restore src/LatentKit.Csv/LatentKit.Csv.csproj
dotnet restore src/LatentKit.Onnx/LatentKit.Onnx.csproj
dotnet docfx docs/docfx.json --warningsAsErrors "$@"
