using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Xunit.Abstractions;

namespace LatentKit.Tests.Data;

/// <summary>
/// Seeded mutations of small IDX files (raw and gzip, images and labels, seekable and forward-only streams): every
/// outcome must be exactly what an independent reading of the (decompressed) bytes says, either the payload of a valid
/// file or a <see cref="MnistFormatException"/>, and the reader may allocate at most
/// <see cref="AllocationBound"/> bytes for it.
/// </summary>
public sealed class IdxFuzzTests(ITestOutputHelper output)
{
    /// <summary>The number of seeded cases of the main fuzz test.</summary>
    private const int Cases = 10_000;

    private static readonly byte[] BaseImages;
    private static readonly byte[] BaseLabels;

    static IdxFuzzTests()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(12, seed: 7);
        BaseImages = IdxTestFiles.Images(pixels);
        BaseLabels = IdxTestFiles.Labels(labels);
    }

    /// <summary>
    /// The most the reader may allocate for content that decompresses to <paramref name="decodedLength"/> bytes: four
    /// times that length (a growing buffer doubles up to the announced size; the data it holds is real) plus 256 KiB
    /// for buffers, streams and the exception.
    /// </summary>
    private static long AllocationBound(long decodedLength) => (4 * decodedLength) + (256 * 1024);

    [Fact]
    public void Ten_thousand_seeded_mutations_give_the_exact_payload_or_a_format_error_within_the_allocation_bound()
    {
        var stopwatch = Stopwatch.StartNew();
        var failures = new List<string>();
        var worstRatio = 0.0;
        long worstAllocation = 0;
        var valid = 0;
        for (var seed = 0; seed < Cases; seed++)
        {
            var outcome = RunCase(seed);
            if (outcome.Failure is not null)
            {
                failures.Add(outcome.Failure);
            }

            worstAllocation = Math.Max(worstAllocation, outcome.Allocated);
            worstRatio = Math.Max(worstRatio, outcome.Allocated / (double)outcome.Bound);
            valid += outcome.Valid ? 1 : 0;
        }

        output.WriteLine($"{Cases} cases in {stopwatch.Elapsed.TotalSeconds:F1} s: {valid} valid, {failures.Count} failures, largest allocation {worstAllocation} bytes, at most {worstRatio:P0} of the bound");
        failures.Should().BeEmpty("every mutation must give the exact payload or a MnistFormatException within the bound ({0} failed)", failures.Count);
        valid.Should().BeGreaterThan(Cases / 20, "some mutations (pixel flips, a label still in 0..9) leave a valid file, and those must be read exactly");
        valid.Should().BeLessThan(Cases / 2);
        worstAllocation.Should().BeLessThan(4 * 1024 * 1024, "the largest decoded content in this test is small");
    }

    /// <summary>
    /// Seeds that failed before the reader's growing buffer started at 64 KiB (it started at 1 MiB, so a small gzip or
    /// forward-only file with a large announced count allocated 1 MiB for a few bytes); kept so they stay fixed.
    /// </summary>
    [Theory]
    [InlineData(8)]
    [InlineData(10)]
    [InlineData(24)]
    [InlineData(69)]
    [InlineData(93)]
    [InlineData(101)]
    public void Regression_seeds_stay_fixed(int seed) => RunCase(seed).Failure.Should().BeNull();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void A_header_announcing_a_million_images_over_a_small_payload_allocates_little(bool gzip, bool seekable)
    {
        var content = IdxTestFiles.Images(new byte[784 * 3], count: MnistDataset.MaxImageCount);
        if (gzip)
        {
            content = IdxTestFiles.Gzip(content);
        }

        Stream stream = seekable ? new MemoryStream(content) : new ForwardOnlyStream(content);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(stream, "big-header"));

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(AllocationBound(16 + (784 * 3)));
        error.Message.Should().Contain("truncated").And.Contain($"{MnistDataset.MaxImageCount} images");
    }

    private static (string? Failure, long Allocated, long Bound, bool Valid) RunCase(int seed)
    {
        var random = new Random(seed);
        var images = random.Next(2) == 0;
        var gzip = random.Next(2) == 0;
        var seekable = random.Next(2) == 0;
        var raw = (images ? BaseImages : BaseLabels).ToArray();
        byte[] content;
        var mutations = new List<string>();
        if (gzip && random.Next(2) == 0)
        {
            // A well-formed gzip of a damaged IDX file.
            content = IdxTestFiles.Gzip(Mutate(raw, random, mutations, images));
        }
        else if (gzip)
        {
            // Damaged gzip data of a good IDX file.
            content = Mutate(IdxTestFiles.Gzip(raw), random, mutations, images: null);
        }
        else
        {
            content = Mutate(raw, random, mutations, images);
        }

        var (expected, decodedLength) = Oracle(content, images);
        Stream stream = seekable ? new MemoryStream(content) : new ForwardOnlyStream(content);
        byte[]? actual = null;
        Exception? unexpected = null;
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            actual = images ? IdxReader.ReadImages(stream, "fuzz") : IdxReader.ReadLabels(stream, "fuzz");
        }
        catch (MnistFormatException)
        {
        }
        catch (Exception e)
        {
            unexpected = e;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var what = $"seed {seed} ({(images ? "images" : "labels")}, {(gzip ? "gzip" : "raw")}, {(seekable ? "seekable" : "forward-only")}, {string.Join(", ", mutations)})";
        string? failure = null;
        if (unexpected is not null)
        {
            failure = $"{what}: {unexpected.GetType().Name}: {unexpected.Message}";
        }
        else if ((actual is null) != (expected is null))
        {
            failure = $"{what}: the reader {(actual is null ? "rejected a valid file" : "accepted an invalid file")}";
        }
        else if (actual is not null && !actual.AsSpan().SequenceEqual(expected))
        {
            failure = $"{what}: the payload read differs from the file's";
        }
        else if (allocated > AllocationBound(decodedLength))
        {
            failure = $"{what}: allocated {allocated} bytes for {decodedLength} decoded bytes, above the bound {AllocationBound(decodedLength)}";
        }

        return (failure, allocated, AllocationBound(decodedLength), expected is not null);
    }

    /// <summary>1 to 3 random damages; header edits only when <paramref name="images"/> says which header it is.</summary>
    private static byte[] Mutate(byte[] bytes, Random random, List<string> mutations, bool? images)
    {
        var data = new List<byte>(bytes);
        var count = random.Next(1, 4);
        for (var m = 0; m < count; m++)
        {
            var kind = random.Next(images is null ? 5 : 7);
            switch (kind)
            {
                case 0 when data.Count > 0:
                {
                    var at = random.Next(data.Count);
                    var bit = random.Next(8);
                    data[at] ^= (byte)(1 << bit);
                    mutations.Add($"flip bit {bit} of byte {at}");
                    break;
                }

                case 1:
                {
                    var length = random.Next(data.Count + 1);
                    data.RemoveRange(length, data.Count - length);
                    mutations.Add($"truncate to {length}");
                    break;
                }

                case 2:
                {
                    var at = random.Next(data.Count + 1);
                    var inserted = new byte[random.Next(1, 40)];
                    random.NextBytes(inserted);
                    data.InsertRange(at, inserted);
                    mutations.Add($"insert {inserted.Length} at {at}");
                    break;
                }

                case 3 when data.Count > 0:
                {
                    var at = random.Next(data.Count);
                    var length = Math.Min(random.Next(1, 40), data.Count - at);
                    data.RemoveRange(at, length);
                    mutations.Add($"delete {length} at {at}");
                    break;
                }

                case 4 when data.Count > 0:
                {
                    var at = random.Next(data.Count);
                    var value = (byte)random.Next(256);
                    data[at] = value;
                    mutations.Add($"set byte {at} to {value}");
                    break;
                }

                case 5 or 6:
                {
                    // A header field (count, rows or columns) edited to a huge, negative or random value.
                    int[] huge = [int.MaxValue, int.MinValue, -1, MnistDataset.MaxImageCount, MnistDataset.MaxImageCount + 1, 2_739_128, 1 << 24, 13, 11, random.Next()];
                    var fields = images == true ? 3 : 1;
                    var field = 1 + random.Next(fields);
                    var value = huge[random.Next(huge.Length)];
                    var offset = field * 4;
                    if (data.Count >= offset + 4)
                    {
                        var span = new byte[4];
                        BinaryPrimitives.WriteInt32BigEndian(span, value);
                        for (var i = 0; i < 4; i++)
                        {
                            data[offset + i] = span[i];
                        }

                        mutations.Add($"header field {field} = {value}");
                    }

                    break;
                }

                default:
                    break;
            }
        }

        return [.. data];
    }

    /// <summary>
    /// What the content is, read independently of the reader: the payload of a valid IDX file (raw, or gzip recognised
    /// by 1f 8b) or null, and the number of bytes it decodes to (up to the point where gzip data fails).
    /// </summary>
    private static (byte[]? Payload, long DecodedLength) Oracle(byte[] content, bool images)
    {
        byte[] decoded;
        if (content.Length >= 2 && content[0] == 0x1f && content[1] == 0x8b)
        {
            using var output = new MemoryStream();
            try
            {
                using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
                var buffer = new byte[8192];
                int n;
                while ((n = gzip.Read(buffer)) > 0)
                {
                    output.Write(buffer, 0, n);
                    if (output.Length > 64 << 20)
                    {
                        throw new InvalidDataException("decodes to more than this test expects");
                    }
                }
            }
            catch (InvalidDataException)
            {
                return (null, output.Length);
            }

            decoded = output.ToArray();
        }
        else
        {
            decoded = content;
        }

        var headerSize = images ? 16 : 8;
        if (decoded.Length < headerSize)
        {
            return (null, decoded.Length);
        }

        var magic = BinaryPrimitives.ReadInt32BigEndian(decoded);
        var count = BinaryPrimitives.ReadInt32BigEndian(decoded.AsSpan(4));
        var valid = magic == (images ? IdxReader.ImagesMagic : IdxReader.LabelsMagic) && count >= 0 && count <= MnistDataset.MaxImageCount;
        long payload = count;
        if (images)
        {
            valid &= BinaryPrimitives.ReadInt32BigEndian(decoded.AsSpan(8)) == 28 && BinaryPrimitives.ReadInt32BigEndian(decoded.AsSpan(12)) == 28;
            payload *= MnistDataset.PixelsPerImage;
        }

        valid &= decoded.Length == headerSize + payload;
        if (valid && !images)
        {
            valid = decoded.AsSpan(headerSize).IndexOfAnyInRange((byte)10, byte.MaxValue) < 0;
        }

        return (valid ? decoded[headerSize..] : null, decoded.Length);
    }

    /// <summary>A stream that can only be read forward, like a network stream.</summary>
    private sealed class ForwardOnlyStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
