package reviewarchive.cluster;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch 2.19 node in this JVM, for `make cluster` (cluster/__init__.py starts one JVM a
 * node, so that a test can kill -9 a single node).
 *
 * <p>Usage: {@code java -cp 'target/classes:target/lib/*' reviewarchive.cluster.Launcher key=value ...},
 * each argument a node setting (path.home, node.name, http.port ... : the controller passes them
 * all). SIGTERM closes the node cleanly.
 *
 * <p>Why not OpenSearch's test framework (OpenSearchIntegTestCase, InternalTestCluster): it is made
 * for JUnit runs inside one JVM, installs a SecurityManager and refuses to run as root; we want
 * separate long-lived processes, as root, with no SecurityManager. Why not the distribution's
 * Bootstrap either: its bootstrap checks also refuse root and production limits (mmap count, file
 * descriptors ...) that a throwaway local node does not need. A plain {@link Node} started from main
 * runs none of these.
 *
 * <p>Logging: log4j-core reads target/classes/log4j2.properties (passed as -Dlog4j2.configurationFile),
 * which writes to the file named by -Dreviewarchive.log at the level -Dreviewarchive.log.level.
 */
public final class Launcher {

    /**
     * A Node whose plugins are classes on our classpath: no plugins/ or modules/ folders, no
     * plugin-descriptor.properties. The constructor that takes plugin classes is protected.
     */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            // true: forbid private index settings in requests, as a real node does
            super(environment, plugins, true);
        }
    }

    /** Netty4Plugin: the HTTP and transport layers (a bare Node has neither); CommonAnalysisPlugin: the usual analyzers. */
    static final List<Class<? extends Plugin>> PLUGINS = List.of(Netty4Plugin.class, CommonAnalysisPlugin.class);

    public static void main(String[] args) {
        final Logger logger = LogManager.getLogger(Launcher.class);
        try {
            final Settings.Builder builder = Settings.builder();
            for (String arg : args) {
                final int eq = arg.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected key=value, got [" + arg + "]");
                }
                builder.put(arg.substring(0, eq), arg.substring(eq + 1));
            }
            final Settings settings = builder.build();
            // Fills in the defaults a real node gets (path.data, path.logs under path.home ...);
            // config dir = path.home/config, which does not exist: no opensearch.yml is read.
            final Environment environment = InternalSettingsPreparer.prepareEnvironment(
                settings, Map.of(), null, () -> settings.get("node.name"));
            final Node node = new ClasspathNode(environment, PLUGINS);

            // SIGTERM (the controller's stop) runs this: close the node (flushes, leaves the
            // cluster), then stop log4j ourselves (-Dlog4j.shutdownHookEnabled=false keeps its own
            // hook from closing the log before the node has said goodbye).
            final CountDownLatch closed = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    node.close();
                    if (node.awaitClose(15, TimeUnit.SECONDS) == false) {
                        logger.warn("node did not close within 15s");
                    }
                } catch (Exception e) {
                    logger.warn("closing the node failed", e);
                } finally {
                    LogManager.shutdown();
                    closed.countDown();
                }
            }, "node-shutdown"));

            node.start();
            logger.info("node started: {}", settings.get("node.name"));
            closed.await(); // the node's threads are daemons: keep the JVM alive until SIGTERM
        } catch (Throwable t) {
            // a bad setting, a taken port, a locked data dir ...: say why and exit non-zero
            // (the controller then prints this node's log tail)
            logger.error("node failed to start", t);
            System.exit(1); // runs the shutdown hook, if it was added: closes what was started
        }
    }
}
