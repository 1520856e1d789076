using System.Runtime.CompilerServices;

namespace Tailor.Format.Codecs;

/// <summary>
/// The sample positions ⌊j·n / count⌋ for j = 0, 1, … without a division each: ⌊j·n / count⌋ is
/// j·⌊n / count⌋ plus ⌊j·(n mod count) / count⌋, and the second term grows by one each time the
/// remainders added so far pass another multiple of count. The samplers take a few positions from
/// every column, and a 64-bit division apiece cost as much as the sampling.
/// </summary>
internal struct SampleStride
{
    private readonly int _quotient;
    private readonly int _remainder;
    private readonly int _count;
    private int _index;
    private int _carry;

    /// <summary>Positions over <paramref name="n"/> values, <paramref name="count"/> of them (1 ≤ count ≤ n).</summary>
    public SampleStride(int n, int count)
    {
        _quotient = n / count;
        _remainder = n % count;
        _count = count;
    }

    /// <summary>The next position: ⌊j·n / count⌋ for the j-th call, counting from 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next()
    {
        int at = _index;
        _index += _quotient;
        _carry += _remainder;
        if (_carry >= _count)
        {
            _carry -= _count;
            _index++;
        }

        return at;
    }
}
