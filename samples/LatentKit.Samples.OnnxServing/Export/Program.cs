using LatentKit.Samples.OnnxServing.Export;

// Usage: [--model classifier.lkm] [--output classifier.onnx] [--epochs 5] [--data <folder with MNIST's IDX files>]
// Without --model it trains the quick-start classifier; with it, it exports the saved classifier. --help lists the options.
return await ExportProgram.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
