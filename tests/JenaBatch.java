// Many Jena commands in one JVM, for the tests (tests/jena.py `batch`): a JVM start and Jena's
// class loading cost seconds, a small query or validation milliseconds, so a test module that asks
// Jena thirty questions runs them here instead of starting thirty `jena arq.sparql` processes.
//
// Run through the wrapper, as a single-file source program (the JRE compiles it; no build step):
//   ../shared/tools/jena tests/JenaBatch.java JOBS
// JOBS has one job a line, fields separated by tabs:
//   sparql  DATA  QUERY  OUT    what `jena arq.sparql --data DATA --query QUERY --results=json` prints
//   shacl   SHAPES  DATA  OUT   what `jena shacl.shacl validate --shapes SHAPES --data DATA` prints
// Each job does what that command does (same dataset, syntax, execution and writer calls: see
// arq.query and shacl.shacl_validate in jena-cmds), writing to OUT instead of stdout; a job that
// fails writes OUT.error (its stack trace) and the others still run. Loaded files are kept for the
// later jobs (neither queries nor validations change them). Exit status 1 when any job failed.

import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.jena.graph.Graph;
import org.apache.jena.query.Dataset;
import org.apache.jena.query.DatasetFactory;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryExecutionFactory;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.Syntax;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.sparql.resultset.ResultsFormat;
import org.apache.jena.sparql.util.QueryExecUtils;
import org.apache.jena.sys.JenaSystem;
import org.apache.jena.system.Txn;

public class JenaBatch {
    private static final Map<String, Dataset> datasets = new HashMap<>();
    private static final Map<String, Graph> graphs = new HashMap<>();

    public static void main(String[] args) throws Exception {
        JenaSystem.init();
        List<String> jobs = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        int failed = 0;
        for (String line : jobs) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            String out = f[3];
            try (PrintStream ps = new PrintStream(new FileOutputStream(out), false, StandardCharsets.UTF_8)) {
                switch (f[0]) {
                    case "sparql" -> sparql(f[1], f[2], ps);
                    case "shacl" -> shacl(f[1], f[2], ps);
                    default -> throw new IllegalArgumentException("unknown job " + f[0]);
                }
            } catch (Exception | Error e) {
                failed++;
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                Files.writeString(Path.of(out + ".error"), line + "\n" + trace, StandardCharsets.UTF_8);
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    // arq.sparql: a transactional in-memory dataset read in a write transaction (ModDatasetGeneral),
    // the query read with the syntax its file name says, else ARQ's (ModQueryIn, arq.sparql), run in
    // a read transaction and written by QueryExecUtils (arq.query.queryExec).
    static void sparql(String data, String queryFile, PrintStream out) {
        Dataset ds = datasets.computeIfAbsent(data, path -> {
            Dataset d = DatasetFactory.createTxnMem();
            Txn.executeWrite(d, () -> RDFDataMgr.read(d, path));
            return d;
        });
        Query query = QueryFactory.read(queryFile, null, Syntax.guessQueryFileSyntax(queryFile, Syntax.syntaxARQ));
        Txn.executeRead(ds, () -> {
            try (QueryExecution qe = QueryExecutionFactory.create(query, ds)) {
                QueryExecUtils.executeQuery(query, qe, ResultsFormat.FMT_RS_JSON, out);
            }
        });
    }

    // shacl.shacl_validate: both files loaded as graphs, validated, the report written as Turtle.
    static void shacl(String shapes, String data, PrintStream out) {
        Graph shapesGraph = graphs.computeIfAbsent(shapes, RDFDataMgr::loadGraph);
        Graph dataGraph = graphs.computeIfAbsent(data, RDFDataMgr::loadGraph);
        ValidationReport report = ShaclValidator.get().validate(shapesGraph, dataGraph);
        RDFDataMgr.write(out, report.getGraph(), Lang.TTL);
    }
}
