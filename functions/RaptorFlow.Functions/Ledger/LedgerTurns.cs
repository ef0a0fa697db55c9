using System.Collections.Concurrent;

namespace RaptorFlow.Functions.Ledger;

/// <summary>
/// This process's postings to one ledger take turns instead of racing each other's ETags (a lost
/// race costs a re-read and a back-off, and in one busy partition most attempts lose), and a turn
/// remembers the balance rows it wrote so the next turn can post without reading them. Other
/// processes still race through the ETags: a remembered row they moved fails the batch with 412,
/// and the posting forgets it and reads again.
/// </summary>
internal sealed class LedgerTurns
{
    /// <summary>Bounds memory however many ledgers one process touches: past it, what is remembered is dropped and read again.</summary>
    private const int MaxRememberedLedgers = 10_000;

    private readonly Dictionary<string, Turn> _turns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, BalanceRow>> _balances = new(StringComparer.Ordinal);

    /// <summary>Waits for the ledger's turn; disposing the result hands it to the next posting.</summary>
    public async ValueTask<Lease> TakeAsync(string ledgerId, CancellationToken cancellationToken)
    {
        Turn turn;
        lock (_turns)
        {
            if (!_turns.TryGetValue(ledgerId, out turn!))
            {
                _turns[ledgerId] = turn = new Turn();
            }

            turn.Holders++;
        }

        try
        {
            await turn.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(ledgerId, turn);
            throw;
        }

        return new Lease(this, ledgerId, turn);
    }

    /// <summary>The balance rows last written here, with the ETags storage gave them; read only while holding the turn.</summary>
    public IReadOnlyDictionary<string, BalanceRow>? Remembered(string ledgerId) =>
        _balances.TryGetValue(ledgerId, out var rows) ? rows : null;

    public void Remember(string ledgerId, IReadOnlyDictionary<string, BalanceRow> rows)
    {
        if (_balances.Count >= MaxRememberedLedgers)
        {
            _balances.Clear();
        }

        _balances[ledgerId] = rows;
    }

    public void Forget(string ledgerId) => _balances.TryRemove(ledgerId, out _);

    private void Leave(string ledgerId, Turn turn)
    {
        lock (_turns)
        {
            if (--turn.Holders == 0)
            {
                _turns.Remove(ledgerId);
            }
        }
    }

    internal sealed class Turn
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Postings holding or waiting for the turn; guarded by the dictionary's lock.</summary>
        public int Holders { get; set; }
    }

    public readonly struct Lease : IDisposable
    {
        private readonly LedgerTurns _owner;
        private readonly string _ledgerId;
        private readonly Turn _turn;

        internal Lease(LedgerTurns owner, string ledgerId, Turn turn)
        {
            _owner = owner;
            _ledgerId = ledgerId;
            _turn = turn;
        }

        public void Dispose()
        {
            _turn.Gate.Release();
            _owner.Leave(_ledgerId, _turn);
        }
    }
}
