package zq.formats.text;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Generated text mixing Chinese prose, English prose, indented code, numbers, emoji and blank lines: the input of the
 * tokenizer benchmark and of the tokenizer tests, reproducible from a seed.
 */
public final class MixedText {
    private MixedText() {}

    private static final String HANZI =
            "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
            + "十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全"
            + "表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员"
            + "革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理"
            + "模型量化推理校准数据集分词器测试性能内存显卡权重矩阵";
    private static final String[] WORDS = (
            "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
            + "model quantization tokenizer perplexity weight matrix layer attention gradient checkpoint calibration sample "
            + "window sequence token vocabulary merge rank byte encoder decoder hidden state group scale zero point error "
            + "Hello World OpenAI Qwen Llama Zhinao GPTQ Int4 float half precision throughput latency benchmark").split(" ");
    private static final String[] CODE = {
            "public static int[] encode(String text) {",
            "for (int i = 0; i < n; i++) {",
            "if (x == null) throw new IllegalArgumentException(\"x\");",
            "return Math.max(a, b) * scale + zeroPoint;",
            "def quantize(w, bits=4, group_size=128):",
            "    q = torch.clamp(torch.round(w / scale) + zero, 0, maxq)",
            "import numpy as np  # numerical arrays",
            "    print(f\"{name}: {value:.4f}\")",
            "}",
            "        self.weight = nn.Parameter(torch.empty(out_features, in_features))",
            "x = [1, 2, 3, 42, 1024, 65536]",
    };
    private static final String[] EMOJI = {"😀", "🚀", "👍🏽", "🇨🇳", "❤️", "🤖"};

    /**
     * About {@code targetBytes} of UTF-8 text mixing Chinese prose, English prose, indented code,
     * numbers, emoji and blank lines, the same for the same seed.
     */
    public static String generate(long seed, int targetBytes) {
        Random rnd = new Random(seed);
        StringBuilder sb = new StringBuilder(targetBytes);
        long bytes = 0;
        while (bytes < targetBytes) {
            int start = sb.length();
            switch (rnd.nextInt(4)) {
                case 0 -> chineseParagraph(rnd, sb);
                case 1 -> englishParagraph(rnd, sb);
                case 2 -> codeBlock(rnd, sb);
                default -> {
                    chineseParagraph(rnd, sb);
                    sb.append(' ');
                    englishParagraph(rnd, sb);
                }
            }
            sb.append(rnd.nextInt(3) == 0 ? "\n\n" : "\n");
            bytes += sb.substring(start).getBytes(StandardCharsets.UTF_8).length;
        }
        return sb.toString();
    }

    private static void chineseParagraph(Random rnd, StringBuilder sb) {
        int sentences = 1 + rnd.nextInt(4);
        for (int s = 0; s < sentences; s++) {
            int len = 6 + rnd.nextInt(25);
            for (int i = 0; i < len; i++) {
                sb.append(HANZI.charAt(rnd.nextInt(HANZI.length())));
                if (rnd.nextInt(40) == 0) sb.append(rnd.nextInt(2024));
                if (rnd.nextInt(12) == 0) sb.append('，');
            }
            if (rnd.nextInt(15) == 0) sb.append(EMOJI[rnd.nextInt(EMOJI.length)]);
            sb.append("。！？".charAt(rnd.nextInt(3)));
        }
    }

    private static void englishParagraph(Random rnd, StringBuilder sb) {
        int words = 5 + rnd.nextInt(40);
        for (int i = 0; i < words; i++) {
            if (i > 0) sb.append(rnd.nextInt(30) == 0 ? "  " : " ");
            String w = WORDS[rnd.nextInt(WORDS.length)];
            if (i == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            sb.append(w);
            if (rnd.nextInt(10) == 0) sb.append(",.;:!?'s".charAt(rnd.nextInt(8)));
            if (rnd.nextInt(25) == 0) sb.append(' ').append(rnd.nextInt(100000));
        }
        sb.append('.');
    }

    private static void codeBlock(Random rnd, StringBuilder sb) {
        int lines = 2 + rnd.nextInt(8);
        for (int i = 0; i < lines; i++) {
            sb.append(" ".repeat(4 * rnd.nextInt(4)));
            if (rnd.nextInt(20) == 0) sb.append('\t');
            sb.append(CODE[rnd.nextInt(CODE.length)]);
            if (i + 1 < lines) sb.append('\n');
        }
    }
}
