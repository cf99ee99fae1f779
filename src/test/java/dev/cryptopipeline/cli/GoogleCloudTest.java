package dev.cryptopipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.oauth2.ServiceAccountCredentials;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which Google Cloud credentials a run uses: the key file it was given, else Application Default Credentials. */
class GoogleCloudTest {
    @TempDir
    Path dir;

    private static PipelineConfig.GcpConfig withKeyFile(Path file) {
        PipelineConfig.GcpConfig d = PipelineConfig.GcpConfig.defaults();
        return new PipelineConfig.GcpConfig(Optional.of("p"), d.bqDataset(), d.bqLocation(), d.retentionDays(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(file));
    }

    /** A service account key file as the console downloads it, with a fresh RSA key. */
    private Path keyFile(String email) throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.UTF_8))
                .encodeToString(rsa.generateKeyPair().getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
        Path file = dir.resolve("key.json");
        new ObjectMapper().writeValue(file.toFile(), Map.of("type", "service_account", "project_id", "p",
                "private_key_id", "k1", "private_key", pem, "client_email", email, "client_id", "1",
                "token_uri", "https://oauth2.googleapis.com/token"));
        return file;
    }

    @Test
    void the_key_file_given_is_the_one_used() throws Exception {
        Path key = keyFile("loader@p.iam.gserviceaccount.com");
        assertThat(GoogleCloud.credentials(withKeyFile(key))).isInstanceOf(ServiceAccountCredentials.class)
                .extracting(c -> ((ServiceAccountCredentials) c).getClientEmail())
                .isEqualTo("loader@p.iam.gserviceaccount.com");
    }

    @Test
    void a_missing_or_unreadable_key_file_is_one_line_saying_what_to_do() throws Exception {
        Path missing = dir.resolve("gone.json");
        assertThatThrownBy(() -> GoogleCloud.credentials(withKeyFile(missing)))
                .isInstanceOf(PipelineException.Failed.class)
                .hasMessageStartingWith("Cannot use the Google Cloud credentials file " + missing + " (no such file;")
                .hasMessageContaining("gcloud auth application-default login");
        Path garbage = Files.writeString(dir.resolve("notes.txt"), "not a key\n");
        assertThatThrownBy(() -> GoogleCloud.credentials(withKeyFile(garbage)))
                .isInstanceOf(PipelineException.Failed.class)
                .hasMessageStartingWith("Cannot use the Google Cloud credentials file " + garbage + " (");
    }
}
