using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Tailor.Sink.Kafka;

/// <summary>
/// The few functions of librdkafka's mock-cluster C API (<c>rdkafka_mock.h</c>) that Confluent.Kafka
/// does not wrap: creating a topic with a chosen partition count (the mock does not implement the
/// CreateTopics request) and the group's initial rebalance delay.
/// </summary>
/// <remarks>
/// The functions are looked up in the very librdkafka image Confluent.Kafka has loaded: the package
/// ships several builds (<c>librdkafka.so</c>, which needs libsasl2, then <c>centos8-librdkafka.so</c>)
/// and Confluent.Kafka picks the first that loads, so calling "librdkafka" by name could reach a
/// second copy that knows nothing of the cluster. The <c>rd_kafka_t</c> pointer comes from the
/// internal <c>Handle.LibrdkafkaHandle</c> of Confluent.Kafka (pinned at 2.16.0); if a later version
/// renames it, <see cref="TryBind"/> reports why and the cluster runs without these extras.
/// </remarks>
internal sealed unsafe class MockClusterApi
{
    private readonly delegate* unmanaged<IntPtr, IntPtr> _handleMockCluster;
    private readonly delegate* unmanaged<IntPtr, byte*, int, int, int> _topicCreate;
    private readonly delegate* unmanaged<IntPtr, int, void> _initialRebalanceDelay;
    private readonly delegate* unmanaged<IntPtr, IntPtr> _bootstraps;
    private readonly delegate* unmanaged<IntPtr, int, int> _brokerSetDown;
    private readonly delegate* unmanaged<IntPtr, int, int> _brokerSetUp;

    private MockClusterApi(IntPtr library)
    {
        _handleMockCluster = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(library, "rd_kafka_handle_mock_cluster");
        _topicCreate = (delegate* unmanaged<IntPtr, byte*, int, int, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_topic_create");
        _initialRebalanceDelay = (delegate* unmanaged<IntPtr, int, void>)NativeLibrary.GetExport(library, "rd_kafka_mock_group_initial_rebalance_delay_ms");
        _bootstraps = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(library, "rd_kafka_mock_cluster_bootstraps");
        _brokerSetDown = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_broker_set_down");
        _brokerSetUp = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_broker_set_up");
    }

    /// <summary>
    /// Binds the API for the client behind <paramref name="owner"/>, which must have been built
    /// with <c>test.mock.num.brokers</c>. Returns <c>null</c> with the reason when it cannot.
    /// </summary>
    public static MockClusterApi? TryBind(Handle owner, out SafeHandle? rdKafka, out string? whyNot)
    {
        rdKafka = null;
        var property = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic);
        if (property?.GetValue(owner) is not SafeHandle handle)
        {
            whyNot = "Confluent.Kafka no longer exposes Handle.LibrdkafkaHandle";
            return null;
        }

        var library = FindLoadedLibrdkafka();
        if (library == IntPtr.Zero)
        {
            whyNot = "the librdkafka image loaded by Confluent.Kafka was not found";
            return null;
        }

        try
        {
            var api = new MockClusterApi(library);
            rdKafka = handle;
            whyNot = null;
            return api;
        }
        catch (EntryPointNotFoundException e)
        {
            whyNot = "the loaded librdkafka has no mock API: " + e.Message;
            return null;
        }
    }

    /// <summary>The mock cluster of the client <paramref name="rk"/>, or zero when it has none.</summary>
    public IntPtr MockClusterOf(IntPtr rk) => _handleMockCluster(rk);

    /// <summary>The cluster's bootstrap list as the mock formats it.</summary>
    public string? Bootstraps(IntPtr cluster) => Marshal.PtrToStringUTF8(_bootstraps(cluster));

    /// <summary>Creates a topic; returns librdkafka's error code (0, or 36 when it exists).</summary>
    public ErrorCode CreateTopic(IntPtr cluster, string topic, int partitions, int replicationFactor)
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(topic);
        var name = new byte[length + 1];
        System.Text.Encoding.UTF8.GetBytes(topic, name);
        fixed (byte* p = name)
        {
            return (ErrorCode)_topicCreate(cluster, p, partitions, replicationFactor);
        }
    }

    /// <summary>Disconnects broker <paramref name="brokerId"/> and refuses new connections to it (or lets them in again); returns librdkafka's error code.</summary>
    public ErrorCode SetBrokerDown(IntPtr cluster, int brokerId, bool down) => (ErrorCode)(down ? _brokerSetDown(cluster, brokerId) : _brokerSetUp(cluster, brokerId));

    /// <summary>Sets the delay an empty group waits for more members before its first assignment.</summary>
    public void SetInitialRebalanceDelay(IntPtr cluster, int milliseconds) => _initialRebalanceDelay(cluster, milliseconds);

    private static IntPtr FindLoadedLibrdkafka()
    {
        // Linux: the image Confluent.Kafka loaded is mapped into this process; loading the same
        // path again returns the same handle.
        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/maps"))
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash < 0)
                {
                    continue;
                }

                var path = line[slash..];
                if (Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal)
                    && NativeLibrary.TryLoad(path, out var handle))
                {
                    return handle;
                }
            }
        }

        // Elsewhere: the same names Confluent.Kafka tries, in its order.
        foreach (var name in new[] { "librdkafka", "centos8-librdkafka", "alpine-librdkafka" })
        {
            if (NativeLibrary.TryLoad(name, typeof(Handle).Assembly, null, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
