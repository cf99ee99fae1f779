package dev.cryptopipeline.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cryptopipeline.PipelineException;
import java.sql.SQLException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which database errors a run retries on a new connection, and which end it at once. */
class SqlErrorsTest {
    @ParameterizedTest
    @CsvSource({
        "08006, true", "08001, true", "57P01, true", "53300, true", "40001, true", "40P01, true", "55P03, true",
        // a login the server or the driver refuses is no outage: retrying it for minutes only hides the fix
        "08004, false", "28P01, false", "28000, false", "42501, false", "22P02, false", "3D000, false"})
    void an_outage_is_retried_and_a_refusal_is_not(String state, boolean retried) {
        SQLException e = new SQLException("message", state);
        assertThat(SqlErrors.transientFailure(e)).isEqualTo(retried);
        assertThat(SqlErrors.translate(e, "loading")).isInstanceOf(retried ? PipelineException.TryLater.class
                : PipelineException.Failed.class);
    }
}
