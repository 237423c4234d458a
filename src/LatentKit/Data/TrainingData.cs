using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The batch reader of a <see cref="Dataset"/>, made by <see cref="Dataset.OpenReader"/>: either its samples as one
/// CPU tensor (uint8 rows for byte data, converted to float per batch, natively; float32 rows otherwise), or, for a
/// streaming dataset (<see cref="Dataset.FromSource"/>), a reader that asks the source for the batch's samples only;
/// and optional int64 targets.
/// </summary>
internal sealed class TrainingData : IDisposable
{
    private readonly SampleStore? streaming;
    private readonly string name = string.Empty;

    /// <summary>For a view made by <see cref="Rows"/>: the underlying reader's rows, in the view's order (int64, CPU).</summary>
    private readonly Tensor? rows;

    /// <summary>Whether disposing this reader disposes <see cref="Inputs"/> and <see cref="Targets"/> (a view does not: they are its reader's).</summary>
    private readonly bool ownsTensors = true;

    public TrainingData(Tensor inputs, Tensor? targets)
    {
        Inputs = inputs;
        Targets = targets;
        Count = checked((int)inputs.shape[0]);
    }

    /// <summary>A reader of a streaming store: samples are read from its source batch by batch.</summary>
    public TrainingData(SampleStore store, Tensor? targets, string name)
    {
        streaming = store;
        this.name = name;
        Targets = targets;
        Count = store.Count;
    }

    private TrainingData(TrainingData reader, int[] rows)
    {
        streaming = reader.streaming;
        name = reader.name;
        Inputs = reader.Inputs;
        Targets = reader.Targets;
        ownsTensors = false;
        var given = NativeTensors.Indices(rows);
        if (reader.rows is null)
        {
            this.rows = given;
        }
        else
        {
            using (given)
            {
                this.rows = reader.rows.index_select(0, given);
            }
        }

        Count = rows.Length;
    }

    /// <summary>
    /// All samples as one tensor; <see langword="null"/> for a streaming reader (read it with <see cref="ReadRange"/>).
    /// For a view (<see cref="Rows"/>), its reader's samples, of which the view reads only its rows.
    /// </summary>
    public Tensor? Inputs { get; }

    public Tensor? Targets { get; }

    public int Count { get; }

    /// <summary>
    /// A reader of <paramref name="rows"/> of this one, in that order: nothing is copied (batches are gathered from this
    /// reader's samples when read). It reads this reader's tensors, which must outlive it; disposing it frees only its
    /// row list.
    /// </summary>
    public TrainingData Rows(int[] rows) => new(this, rows);

    /// <summary>The raw samples and targets at <paramref name="indices"/> (an int64 CPU tensor), targets on <paramref name="device"/>.</summary>
    public (Tensor Inputs, Tensor? Targets) ReadBatch(Tensor indices, Device? device = null) =>
        Gather(rows is null ? indices : rows.index_select(0, indices), device);

    /// <summary>The raw samples and targets <paramref name="start"/>..<paramref name="start"/> + <paramref name="count"/> - 1, targets on <paramref name="device"/>.</summary>
    public (Tensor Inputs, Tensor? Targets) ReadRange(int start, int count, Device? device = null)
    {
        if (rows is not null)
        {
            // A view's consecutive rows are scattered in its reader: gather them.
            return Gather(rows.narrow(0, start, count), device);
        }

        Tensor inputs;
        if (streaming is null)
        {
            inputs = Inputs!.narrow(0, start, count);
        }
        else
        {
            var indices = new long[count];
            for (var i = 0; i < count; i++)
            {
                indices[i] = start + i;
            }

            inputs = ReadStreaming(indices);
        }

        return (inputs, OnDevice(Targets?.narrow(0, start, count), device));
    }

    /// <summary>Raw rows as a new float32 tensor on <paramref name="raw"/>'s device: bytes scaled by 1/255, float32 rows copied as they are.</summary>
    public static Tensor ToFloat(Tensor raw) => raw.dtype == ScalarType.Byte ? raw.to_type(ScalarType.Float32).div_(Scalars.ByteScale) : raw.to_type(ScalarType.Float32, copy: true);

    public void Dispose()
    {
        rows?.Dispose();
        if (ownsTensors)
        {
            Inputs?.Dispose();
            Targets?.Dispose();
        }
    }

    /// <summary>The samples and targets at <paramref name="readerRows"/>, rows of the underlying samples (int64, CPU).</summary>
    private (Tensor Inputs, Tensor? Targets) Gather(Tensor readerRows, Device? device)
    {
        var inputs = streaming is null ? Inputs!.index_select(0, readerRows) : ReadStreaming(readerRows.data<long>().ToArray());
        return (inputs, OnDevice(Targets?.index_select(0, readerRows), device));
    }

    private static Tensor? OnDevice(Tensor? targets, Device? device) => device is null ? targets : targets?.to(device);

    /// <summary>
    /// Reads the samples at <paramref name="indices"/> from the source straight into a new float32 CPU tensor
    /// <c>N x SampleSize</c>: no managed buffer, no copy.
    /// </summary>
    private Tensor ReadStreaming(long[] indices)
    {
        var store = streaming!;
        var batch = empty([indices.Length, store.SampleSize], dtype: ScalarType.Float32);
        try
        {
            store.ReadSamples(indices, MemoryMarshal.Cast<byte, float>(batch.bytes), name);
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }
}
