/*
 * AVX2 versions of the polynomial arithmetic in poly.c, eight coefficients per
 * register. Every function computes exactly the same integers as its portable twin:
 * the Montgomery product is the same (a b - t q) / 2^32 with the same t, the NTTs run
 * the same butterflies with the same twiddles (only the order of independent
 * butterflies differs), and Decompose uses an exact floor division. So the input and
 * output ranges documented in mldsa_internal.h hold unchanged, and signatures are bit
 * for bit the same on both paths. No branches or table indices depend on coefficient
 * values. Compiled with -mavx2; reached only through the run-time checks in poly.c.
 */
#include <immintrin.h>

#include "mldsa_internal.h"

#define INVNTT_SCALE 41978
#define INVNTT_SCALE_ZETA1 3975713

/* Forward layers 4, 2, 1 of 64-coefficient chunk ch, lane r = block r: [0] layer 4, [1..2] layer 2, [3..6] layer 1; [7..13] the same times q^-1 mod 2^32. */
static const int32_t fwd_tw[4][14][8] __attribute__((aligned(32))) = {
  {
    { 2706023, 95776, 3077325, 3530437, -1661693, -3592148, -2537516, 3915439 },
    { -3930395, -3677745, -1452451, 2176455, -1257611, -4083598, -3190144, -3632928 },
    { -1528703, -3041255, 3475950, -1585221, 1939314, -1000202, -3157330, 126922 },
    { 2091667, -3342478, 266997, -3520352, 900702, 495491, -655327, -3556995 },
    { 3407706, 2244091, 2434439, -3759364, 1859098, -1613174, -3122442, -525098 },
    { 2316500, -2446433, -1235728, -1197226, 909542, -43260, 2031748, -768622 },
    { 3817976, -3562462, 3513181, -3193378, 819034, -522500, 3207046, -3595838 },
    { -1846138265, -1631226336, -1404529459, 1838055109, 1594295555, -1076973524, -1898723372, -594436433 },
    { -1574918427, 1350681039, -2143979939, 1599739335, -1285853323, -993005454, -1440787840, 568627424 },
    { -654783359, -1974159335, 1651689966, 140455867, -1039411342, 1955560694, 1529189038, -2131021878 },
    { -898413, -1363460238, -605900043, 2027833504, 14253662, 1014493059, 863641633, 1819892093 },
    { 991903578, 912367099, -44694137, 1176904444, -421552614, -818371958, 1747917558, -325927722 },
    { 1363007700, 30313375, -326425360, 1683520342, -517299994, 2027935492, -1372618620, 128353682 },
    { 746144248, -1420958686, 2032221021, 1904936414, 1257750362, 1926727420, 1931587462, 1258381762 },
  },
  {
    { -3861115, -3043716, 3574422, -2867647, 3539968, -300467, 2348700, -539299 },
    { 3412210, 2147896, -2967645, -411027, -671102, -22981, -381987, 1852771 },
    { -983419, 2715295, -3693493, -2477047, -1228525, -1308169, 1349076, -1430430 },
    { 342297, 3437287, 2842341, 4055324, -3767016, -2994039, -1333058, -451100 },
    { 286988, -3342277, 2691481, 1247620, 1250494, 1869119, 1237275, 1312455 },
    { -2437823, 1735879, -2590150, 2486353, 2635921, 1903435, -3318210, 3306115 },
    { 4108315, 203044, 1265009, 1595974, -3548272, -1050970, -1430225, -1962642 },
    { -202001019, -475984260, -561427818, 1797021249, -1061813248, 2059733581, -1661512036, -1104976547 },
    { -783134478, -588790216, 289871779, -1262003603, 2135294594, -1018755525, -889861155, 1665705315 },
    { -247357819, 1518161567, -86965173, 1708872713, 1787797779, 1638590967, -120646188, -1669960606 },
    { 2124962073, -1223601433, -1920467227, -1637785316, -1536588520, 694382729, 235104446, -1045062172 },
    { 908452108, 1851023419, -1176751719, -1354528380, -72690498, -314284737, 985022747, 963438279 },
    { -1123881663, 137583815, -635454918, -642772911, 45766801, 671509323, -2070602178, 419615363 },
    { 885133339, 1629985060, 1967222129, 6363718, -1287922800, 1136965286, 1779436847, 1116720494 },
  },
  {
    { -1699267, -1643818, 3505694, -3821735, 3507263, -2140649, -1600420, 3699596 },
    { -3343383, 508951, 44288, 904516, -3724342, 1653064, 2389356, 759969 },
    { 264944, 3097992, -1100098, 3958618, -8578, -3249728, -210977, -1316856 },
    { -1279661, 1500165, -542412, -2584293, -2013608, 1957272, -3183426, 810149 },
    { 1917081, 777191, -2831860, -3724270, 2432395, 3369112, 162844, 1652634 },
    { -2546312, 2235880, -1671176, 594136, 2454455, 185531, 1616392, -3694233 },
    { -1374803, 3406031, -1846953, -3776993, -164721, -1207385, 3014001, -1799107 },
    { -1750224323, -901666090, 418987550, 1831915353, -1925356481, 992097815, 879957084, 2024403852 },
    { 1321868265, 1225434135, -1784632064, 666258756, 675310538, -1555941048, -1999506068, -1499481951 },
    { -916321552, 1155548552, 2143745726, 1210558298, -1261461890, -318346816, 628664287, -1729304568 },
    { 831969619, -300448763, 756955444, -260312805, 1554794072, 1339088280, -2040058690, -853476187 },
    { -1078959975, 604552167, -1021949428, 608791570, 173440395, -2126092136, -1316619236, -1039370342 },
    { 1216882040, -270590488, -1276805128, 371462360, -1357098057, -384158533, 827959816, -596344473 },
    { 1042326957, 1405999311, 713994583, 940195359, -1542497137, 2061661095, -883155599, 1726753853 },
  },
  {
    { 811944, 531354, 954230, 3881043, 3900724, -2556880, 2071892, -2797779 },
    { 189548, 3159746, -2409325, 1315589, 1285669, -812732, -3019102, -3628969 },
    { -3553272, -1851402, -177440, 1341330, -1584928, -1439742, -3881060, 3839961 },
    { -3038916, 2213111, -426683, -1667432, -2939036, 183443, -554416, 3937738 },
    { 3523897, -975884, 1723600, -1104333, -2235985, -976891, 3919660, 1400424 },
    { 3866901, 1717735, -1803090, -260646, -420899, 1612842, -48306, -846154 },
    { 269760, 472078, 1910376, -3833893, -2286327, -3545687, -1362209, 1976782 },
    { 1484874664, -1636082790, -285388938, -1983539117, -1495136972, -950076368, -1714807468, -952438995 },
    { -695180180, -1375177022, 1777179795, 334803717, -178766299, -518252220, 1957047970, 1146323031 },
    { 1422575624, 1424130038, -1185330464, 235321234, 168022240, 1206536194, 985155484, -894060583 },
    { -2047270596, -1723816713, -1591599803, -440824168, 1119856484, 1544891539, 155290192, -973777462 },
    { 6087993, -110126092, 565464272, -1758099917, -1600929361, 879867909, -1809756372, 400711272 },
    { 702390549, -279505433, -260424530, -71875110, -1208667171, -1499603926, 2036925262, -540420426 },
    { -1547952704, 394851342, 283780712, 776003547, 1123958025, 201262505, 1934038751, 374860238 },
  },
};
/* Inverse layers 1, 2, 4 likewise: [0..3] layer 1, [4..5] layer 2, [6] layer 4 (negated twiddles); [7..13] times q^-1. */
static const int32_t inv_tw[4][14][8] __attribute__((aligned(32))) = {
  {
    { -1976782, 1362209, 3545687, 2286327, 3833893, -1910376, -472078, -269760 },
    { 846154, 48306, -1612842, 420899, 260646, 1803090, -1717735, -3866901 },
    { -1400424, -3919660, 976891, 2235985, 1104333, -1723600, 975884, -3523897 },
    { -3937738, 554416, -183443, 2939036, 1667432, 426683, -2213111, 3038916 },
    { -3839961, 3881060, 1439742, 1584928, -1341330, 177440, 1851402, 3553272 },
    { 3628969, 3019102, 812732, -1285669, -1315589, 2409325, -3159746, -189548 },
    { 2797779, -2071892, 2556880, -3900724, -3881043, -954230, -531354, -811944 },
    { -374860238, -1934038751, -201262505, -1123958025, -776003547, -283780712, -394851342, 1547952704 },
    { 540420426, -2036925262, 1499603926, 1208667171, 71875110, 260424530, 279505433, -702390549 },
    { -400711272, 1809756372, -879867909, 1600929361, 1758099917, -565464272, 110126092, -6087993 },
    { 973777462, -155290192, -1544891539, -1119856484, 440824168, 1591599803, 1723816713, 2047270596 },
    { 894060583, -985155484, -1206536194, -168022240, -235321234, 1185330464, -1424130038, -1422575624 },
    { -1146323031, -1957047970, 518252220, 178766299, -334803717, -1777179795, 1375177022, 695180180 },
    { 952438995, 1714807468, 950076368, 1495136972, 1983539117, 285388938, 1636082790, -1484874664 },
  },
  {
    { 1799107, -3014001, 1207385, 164721, 3776993, 1846953, -3406031, 1374803 },
    { 3694233, -1616392, -185531, -2454455, -594136, 1671176, -2235880, 2546312 },
    { -1652634, -162844, -3369112, -2432395, 3724270, 2831860, -777191, -1917081 },
    { -810149, 3183426, -1957272, 2013608, 2584293, 542412, -1500165, 1279661 },
    { 1316856, 210977, 3249728, 8578, -3958618, 1100098, -3097992, -264944 },
    { -759969, -2389356, -1653064, 3724342, -904516, -44288, -508951, 3343383 },
    { -3699596, 1600420, 2140649, -3507263, 3821735, -3505694, 1643818, 1699267 },
    { -1726753853, 883155599, -2061661095, 1542497137, -940195359, -713994583, -1405999311, -1042326957 },
    { 596344473, -827959816, 384158533, 1357098057, -371462360, 1276805128, 270590488, -1216882040 },
    { 1039370342, 1316619236, 2126092136, -173440395, -608791570, 1021949428, -604552167, 1078959975 },
    { 853476187, 2040058690, -1339088280, -1554794072, 260312805, -756955444, 300448763, -831969619 },
    { 1729304568, -628664287, 318346816, 1261461890, -1210558298, -2143745726, -1155548552, 916321552 },
    { 1499481951, 1999506068, 1555941048, -675310538, -666258756, 1784632064, -1225434135, -1321868265 },
    { -2024403852, -879957084, -992097815, 1925356481, -1831915353, -418987550, 901666090, 1750224323 },
  },
  {
    { 1962642, 1430225, 1050970, 3548272, -1595974, -1265009, -203044, -4108315 },
    { -3306115, 3318210, -1903435, -2635921, -2486353, 2590150, -1735879, 2437823 },
    { -1312455, -1237275, -1869119, -1250494, -1247620, -2691481, 3342277, -286988 },
    { 451100, 1333058, 2994039, 3767016, -4055324, -2842341, -3437287, -342297 },
    { 1430430, -1349076, 1308169, 1228525, 2477047, 3693493, -2715295, 983419 },
    { -1852771, 381987, 22981, 671102, 411027, 2967645, -2147896, -3412210 },
    { 539299, -2348700, 300467, -3539968, 2867647, -3574422, 3043716, 3861115 },
    { -1116720494, -1779436847, -1136965286, 1287922800, -6363718, -1967222129, -1629985060, -885133339 },
    { -419615363, 2070602178, -671509323, -45766801, 642772911, 635454918, -137583815, 1123881663 },
    { -963438279, -985022747, 314284737, 72690498, 1354528380, 1176751719, -1851023419, -908452108 },
    { 1045062172, -235104446, -694382729, 1536588520, 1637785316, 1920467227, 1223601433, -2124962073 },
    { 1669960606, 120646188, -1638590967, -1787797779, -1708872713, 86965173, -1518161567, 247357819 },
    { -1665705315, 889861155, 1018755525, -2135294594, 1262003603, -289871779, 588790216, 783134478 },
    { 1104976547, 1661512036, -2059733581, 1061813248, -1797021249, 561427818, 475984260, 202001019 },
  },
  {
    { 3595838, -3207046, 522500, -819034, 3193378, -3513181, 3562462, -3817976 },
    { 768622, -2031748, 43260, -909542, 1197226, 1235728, 2446433, -2316500 },
    { 525098, 3122442, 1613174, -1859098, 3759364, -2434439, -2244091, -3407706 },
    { 3556995, 655327, -495491, -900702, 3520352, -266997, 3342478, -2091667 },
    { -126922, 3157330, 1000202, -1939314, 1585221, -3475950, 3041255, 1528703 },
    { 3632928, 3190144, 4083598, 1257611, -2176455, 1452451, 3677745, 3930395 },
    { -3915439, 2537516, 3592148, 1661693, -3530437, -3077325, -95776, -2706023 },
    { -1258381762, -1931587462, -1926727420, -1257750362, -1904936414, -2032221021, 1420958686, -746144248 },
    { -128353682, 1372618620, -2027935492, 517299994, -1683520342, 326425360, -30313375, -1363007700 },
    { 325927722, -1747917558, 818371958, 421552614, -1176904444, 44694137, -912367099, -991903578 },
    { -1819892093, -863641633, -1014493059, -14253662, -2027833504, 605900043, 1363460238, 898413 },
    { 2131021878, -1529189038, -1955560694, 1039411342, -140455867, -1651689966, 1974159335, 654783359 },
    { -568627424, 1440787840, 993005454, 1285853323, -1599739335, 2143979939, -1350681039, 1574918427 },
    { 594436433, 1898723372, 1076973524, -1594295555, -1838055109, 1404529459, 1631226336, 1846138265 },
  },
};

/* zetas_qinv[k] = sg_mldsa_zetas_mont[k] * q^-1 mod 2^32 (signed): the zq of each twiddle. */
static const int32_t zetas_qinv[256] = {
  -513, 1830765815, -1929875198, -1927777021, 1640767044, 1477910808, 1612161320,
  1640734244, 308362795, -1815525077, -1374673747, -1091570561, -1929495947, 515185417,
  -285697463, 625853735, 1727305304, 2082316400, -1364982364, 858240904, 1806278032,
  222489248, -346752664, 684667771, 1654287830, -878576921, -1257667337, -748618600,
  329347125, 1837364258, -1443016191, -1170414139, -1846138265, -1631226336, -1404529459,
  1838055109, 1594295555, -1076973524, -1898723372, -594436433, -202001019, -475984260,
  -561427818, 1797021249, -1061813248, 2059733581, -1661512036, -1104976547, -1750224323,
  -901666090, 418987550, 1831915353, -1925356481, 992097815, 879957084, 2024403852,
  1484874664, -1636082790, -285388938, -1983539117, -1495136972, -950076368, -1714807468,
  -952438995, -1574918427, -654783359, 1350681039, -1974159335, -2143979939, 1651689966,
  1599739335, 140455867, -1285853323, -1039411342, -993005454, 1955560694, -1440787840,
  1529189038, 568627424, -2131021878, -783134478, -247357819, -588790216, 1518161567,
  289871779, -86965173, -1262003603, 1708872713, 2135294594, 1787797779, -1018755525,
  1638590967, -889861155, -120646188, 1665705315, -1669960606, 1321868265, -916321552,
  1225434135, 1155548552, -1784632064, 2143745726, 666258756, 1210558298, 675310538,
  -1261461890, -1555941048, -318346816, -1999506068, 628664287, -1499481951, -1729304568,
  -695180180, 1422575624, -1375177022, 1424130038, 1777179795, -1185330464, 334803717,
  235321234, -178766299, 168022240, -518252220, 1206536194, 1957047970, 985155484,
  1146323031, -894060583, -898413, 991903578, 1363007700, 746144248, -1363460238,
  912367099, 30313375, -1420958686, -605900043, -44694137, -326425360, 2032221021,
  2027833504, 1176904444, 1683520342, 1904936414, 14253662, -421552614, -517299994,
  1257750362, 1014493059, -818371958, 2027935492, 1926727420, 863641633, 1747917558,
  -1372618620, 1931587462, 1819892093, -325927722, 128353682, 1258381762, 2124962073,
  908452108, -1123881663, 885133339, -1223601433, 1851023419, 137583815, 1629985060,
  -1920467227, -1176751719, -635454918, 1967222129, -1637785316, -1354528380, -642772911,
  6363718, -1536588520, -72690498, 45766801, -1287922800, 694382729, -314284737,
  671509323, 1136965286, 235104446, 985022747, -2070602178, 1779436847, -1045062172,
  963438279, 419615363, 1116720494, 831969619, -1078959975, 1216882040, 1042326957,
  -300448763, 604552167, -270590488, 1405999311, 756955444, -1021949428, -1276805128,
  713994583, -260312805, 608791570, 371462360, 940195359, 1554794072, 173440395,
  -1357098057, -1542497137, 1339088280, -2126092136, -384158533, 2061661095, -2040058690,
  -1316619236, 827959816, -883155599, -853476187, -1039370342, -596344473, 1726753853,
  -2047270596, 6087993, 702390549, -1547952704, -1723816713, -110126092, -279505433,
  394851342, -1591599803, 565464272, -260424530, 283780712, -440824168, -1758099917,
  -71875110, 776003547, 1119856484, -1600929361, -1208667171, 1123958025, 1544891539,
  879867909, -1499603926, 201262505, 155290192, -1809756372, 2036925262, 1934038751,
  -973777462, 400711272, -540420426, 374860238,
};

static inline __m256i load(const int32_t *p)
{
  return _mm256_loadu_si256((const __m256i *)p);
}

static inline void store(int32_t *p, __m256i v)
{
  _mm256_storeu_si256((__m256i *)p, v);
}

/* High 32 bits of each 64-bit lane of even (to the even slots) and odd (odd slots). */
static inline __m256i high_halves(__m256i even, __m256i odd)
{
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xaa);
}

/*
 * Montgomery product of a with twiddles z (per lane) given zq = z q^-1 mod 2^32:
 * t = a zq mod 2^32 equals (a z mod 2^32) q^-1 mod 2^32, and the result
 * hi(a z) - hi(t q) is (a z - t q) / 2^32 because the low halves cancel exactly.
 */
static inline __m256i mont_mul_tw(__m256i a, __m256i z, __m256i zq)
{
  const __m256i q = _mm256_set1_epi32(MLDSA_Q);
  __m256i a_odd = _mm256_srli_epi64(a, 32);
  __m256i z_odd = _mm256_srli_epi64(z, 32);
  __m256i zq_odd = _mm256_srli_epi64(zq, 32);
  __m256i p_even = _mm256_mul_epi32(a, z);
  __m256i p_odd = _mm256_mul_epi32(a_odd, z_odd);
  __m256i u_even = _mm256_mul_epi32(_mm256_mul_epi32(a, zq), q);
  __m256i u_odd = _mm256_mul_epi32(_mm256_mul_epi32(a_odd, zq_odd), q);
  return _mm256_sub_epi32(high_halves(p_even, p_odd), high_halves(u_even, u_odd));
}

/*
 * The same product for a twiddle broadcast to all lanes: the odd lanes can use z and
 * zq as they are, because _mm256_mul_epi32 reads only the low half of each 64-bit lane.
 */
static inline __m256i mont_mul_bc(__m256i a, __m256i z, __m256i zq)
{
  const __m256i q = _mm256_set1_epi32(MLDSA_Q);
  __m256i a_odd = _mm256_srli_epi64(a, 32);
  __m256i p_even = _mm256_mul_epi32(a, z);
  __m256i p_odd = _mm256_mul_epi32(a_odd, z);
  __m256i u_even = _mm256_mul_epi32(_mm256_mul_epi32(a, zq), q);
  __m256i u_odd = _mm256_mul_epi32(_mm256_mul_epi32(a_odd, zq), q);
  return _mm256_sub_epi32(high_halves(p_even, p_odd), high_halves(u_even, u_odd));
}

/* Montgomery reduction of the 64-bit sums in the even and odd lanes. */
static inline __m256i mont_reduce64(__m256i s_even, __m256i s_odd)
{
  const __m256i q = _mm256_set1_epi32(MLDSA_Q);
  const __m256i qinv = _mm256_set1_epi32(MLDSA_QINV);
  __m256i u_even = _mm256_mul_epi32(_mm256_mul_epi32(s_even, qinv), q);
  __m256i u_odd = _mm256_mul_epi32(_mm256_mul_epi32(s_odd, qinv), q);
  return _mm256_sub_epi32(high_halves(s_even, s_odd), high_halves(u_even, u_odd));
}

static inline __m256i broadcast_tw(int32_t z, __m256i *zq)
{
  *zq = _mm256_set1_epi32((int32_t)((uint32_t)z * (uint32_t)MLDSA_QINV));
  return _mm256_set1_epi32(z);
}

/* 8x8 transpose of 32-bit elements: afterwards r[p] lane b holds the old r[b] lane p. */
static inline void transpose8(__m256i r[8])
{
  __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/* Cooley-Tukey butterfly on vectors: b <- a - z b, a <- a + z b. */
static inline void ct(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
  __m256i t = mont_mul_tw(*b, z, zq);
  *b = _mm256_sub_epi32(*a, t);
  *a = _mm256_add_epi32(*a, t);
}

/* Gentleman-Sande butterfly on vectors: a <- a + b, b <- z (a - b). */
static inline void gs(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
  __m256i t = *a;
  *a = _mm256_add_epi32(t, *b);
  *b = mont_mul_tw(_mm256_sub_epi32(t, *b), z, zq);
}

/* The butterflies with a broadcast twiddle. */
static inline void ct_bc(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
  __m256i t = mont_mul_bc(*b, z, zq);
  *b = _mm256_sub_epi32(*a, t);
  *a = _mm256_add_epi32(*a, t);
}

static inline void gs_bc(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
  __m256i t = *a;
  *a = _mm256_add_epi32(t, *b);
  *b = mont_mul_bc(_mm256_sub_epi32(t, *b), z, zq);
}


/*
 * One layer per pass for the layers whose partners are whole vectors: with GCC this
 * measured faster than merging layers in registers (which spills).
 */
void sg_mldsa_avx2_ntt(int32_t c[MLDSA_N])
{
  /* Layers 128 .. 8: partners are whole vectors, one twiddle per block. */
  for (unsigned len = 128; len >= 8; len >>= 1) {
    for (unsigned b = 0; b < MLDSA_N / (2 * len); b++) {
      unsigned start = 2 * len * b;
      unsigned k = MLDSA_N / (2 * len) + b;
      __m256i z = _mm256_set1_epi32(sg_mldsa_zetas_mont[k]);
      __m256i zq = _mm256_set1_epi32(zetas_qinv[k]);
      for (unsigned j = start; j < start + len; j += 8) {
        __m256i x = load(c + j), y = load(c + j + len);
        ct_bc(&x, &y, z, zq);
        store(c + j, x);
        store(c + j + len, y);
      }
    }
  }
  /* Layers 4, 2, 1 inside each block of 8: transpose 64 coefficients so that vector p
   * holds position p of eight blocks, then partners are whole vectors again. */
  for (unsigned ch = 0; ch < 4; ch++) {
    const int32_t(*tw)[8] = fwd_tw[ch];
    __m256i r[8];
    for (int p = 0; p < 8; p++)
      r[p] = load(c + 64 * ch + 8 * p);
    transpose8(r);
    for (int p = 0; p < 4; p++)
      ct(&r[p], &r[p + 4], load(tw[0]), load(tw[7]));
    for (int p = 0; p < 8; p += 4) {
      __m256i z = load(tw[1 + p / 4]), zq = load(tw[8 + p / 4]);
      ct(&r[p], &r[p + 2], z, zq);
      ct(&r[p + 1], &r[p + 3], z, zq);
    }
    for (int p = 0; p < 8; p += 2)
      ct(&r[p], &r[p + 1], load(tw[3 + p / 2]), load(tw[10 + p / 2]));
    transpose8(r);
    for (int p = 0; p < 8; p++)
      store(c + 64 * ch + 8 * p, r[p]);
  }
}

void sg_mldsa_avx2_invntt_mont(int32_t c[MLDSA_N])
{
  /* Layers 1, 2, 4 on transposed 64-coefficient chunks. */
  for (unsigned ch = 0; ch < 4; ch++) {
    const int32_t(*tw)[8] = inv_tw[ch];
    __m256i r[8];
    for (int p = 0; p < 8; p++)
      r[p] = load(c + 64 * ch + 8 * p);
    transpose8(r);
    for (int p = 0; p < 8; p += 2)
      gs(&r[p], &r[p + 1], load(tw[p / 2]), load(tw[7 + p / 2]));
    for (int p = 0; p < 8; p += 4) {
      __m256i z = load(tw[4 + p / 4]), zq = load(tw[11 + p / 4]);
      gs(&r[p], &r[p + 2], z, zq);
      gs(&r[p + 1], &r[p + 3], z, zq);
    }
    for (int p = 0; p < 4; p++)
      gs(&r[p], &r[p + 4], load(tw[6]), load(tw[13]));
    transpose8(r);
    for (int p = 0; p < 8; p++)
      store(c + 64 * ch + 8 * p, r[p]);
  }
  /* Layers 8 .. 64 with one (negated) twiddle per block. */
  for (unsigned len = 8; len < 128; len <<= 1) {
    for (unsigned b = 0; b < MLDSA_N / (2 * len); b++) {
      unsigned start = 2 * len * b;
      unsigned k = MLDSA_N / len - 1 - b;
      __m256i z = _mm256_set1_epi32(-sg_mldsa_zetas_mont[k]);
      __m256i zq = _mm256_set1_epi32(-zetas_qinv[k]);
      for (unsigned j = start; j < start + len; j += 8) {
        __m256i x = load(c + j), y = load(c + j + len);
        gs_bc(&x, &y, z, zq);
        store(c + j, x);
        store(c + j + len, y);
      }
    }
  }
  /* Layer 128 with the scaling by 2^32 / 256 folded in, as in poly.c. */
  {
    __m256i fq, f = broadcast_tw(INVNTT_SCALE, &fq);
    __m256i gq, g = broadcast_tw(INVNTT_SCALE_ZETA1, &gq);
    for (unsigned j = 0; j < MLDSA_N / 2; j += 8) {
      __m256i x = load(c + j), y = load(c + j + MLDSA_N / 2);
      store(c + j, mont_mul_bc(_mm256_add_epi32(x, y), f, fq));
      store(c + j + MLDSA_N / 2, mont_mul_bc(_mm256_sub_epi32(x, y), g, gq));
    }
  }
}

void sg_mldsa_avx2_poly_mul(int32_t r[MLDSA_N], const int32_t a[MLDSA_N],
                            const int32_t b[MLDSA_N])
{
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i x = load(a + j), y = load(b + j);
    __m256i p_even = _mm256_mul_epi32(x, y);
    __m256i p_odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(y, 32));
    store(r + j, mont_reduce64(p_even, p_odd));
  }
}

void sg_mldsa_avx2_poly_dot(int32_t r[MLDSA_N], const mldsa_poly *a, const mldsa_poly *b,
                            unsigned n)
{
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i s_even = _mm256_setzero_si256(), s_odd = _mm256_setzero_si256();
    for (unsigned i = 0; i < n; i++) {
      __m256i x = load(a[i].c + j), y = load(b[i].c + j);
      s_even = _mm256_add_epi64(s_even, _mm256_mul_epi32(x, y));
      s_odd = _mm256_add_epi64(s_odd, _mm256_mul_epi32(_mm256_srli_epi64(x, 32),
                                                        _mm256_srli_epi64(y, 32)));
    }
    store(r + j, mont_reduce64(s_even, s_odd));
  }
}

/* ---- reductions and rounding ---- */

static inline __m256i reduce32(__m256i a)
{
  __m256i t = _mm256_srai_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(1 << 22)), 23);
  return _mm256_sub_epi32(a, _mm256_mullo_epi32(t, _mm256_set1_epi32(MLDSA_Q)));
}

static inline __m256i add_q_if_negative(__m256i a)
{
  return _mm256_add_epi32(
      a, _mm256_and_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(MLDSA_Q)));
}

static inline __m256i freeze(__m256i a)
{
  return add_q_if_negative(reduce32(a));
}

void sg_mldsa_avx2_poly_freeze(int32_t a[MLDSA_N])
{
  for (unsigned j = 0; j < MLDSA_N; j += 8)
    store(a + j, freeze(load(a + j)));
}

void sg_mldsa_avx2_poly_center(int32_t a[MLDSA_N])
{
  const __m256i half = _mm256_set1_epi32((MLDSA_Q - 1) / 2), q = _mm256_set1_epi32(MLDSA_Q);
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i v = freeze(load(a + j));
    v = _mm256_sub_epi32(v, _mm256_and_si256(_mm256_cmpgt_epi32(v, half), q));
    store(a + j, v);
  }
}

/* All-ones lanes where |v| >= bound. */
static inline __m256i at_least(__m256i v, int32_t bound)
{
  return _mm256_cmpgt_epi32(_mm256_abs_epi32(v), _mm256_set1_epi32(bound - 1));
}

int sg_mldsa_avx2_poly_exceeds(const int32_t a[MLDSA_N], int32_t bound)
{
  __m256i bad = _mm256_setzero_si256();
  for (unsigned j = 0; j < MLDSA_N; j += 8)
    bad = _mm256_or_si256(bad, at_least(load(a + j), bound));
  return !_mm256_testz_si256(bad, bad);
}

void sg_mldsa_avx2_poly_power2round(int32_t t1[MLDSA_N], int32_t t0[MLDSA_N],
                                    const int32_t a[MLDSA_N])
{
  const __m256i bias = _mm256_set1_epi32((1 << (MLDSA_D - 1)) - 1);
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i v = load(a + j);
    __m256i r1 = _mm256_srai_epi32(_mm256_add_epi32(v, bias), MLDSA_D);
    store(t1 + j, r1);
    store(t0 + j, _mm256_sub_epi32(v, _mm256_slli_epi32(r1, MLDSA_D)));
  }
}

/*
 * Decompose of v in [0, q): r1 = floor((v + gamma2 - 1) / (2 gamma2)) as
 * ((x >> 9) * 16401) >> 24 for gamma2 = (q-1)/32 and ((x >> 11) * 2819) >> 18 for
 * (q-1)/88, both exact below q + gamma2 (checked exhaustively by the unit test
 * against FIPS 204 Alg. 36); then the wrap-around case r1 = (q-1) / (2 gamma2).
 */
static inline void decompose(__m256i v, int32_t gamma2, __m256i *r1_out, __m256i *r0_out)
{
  int wide = gamma2 == (MLDSA_Q - 1) / 32;
  __m256i x = _mm256_add_epi32(v, _mm256_set1_epi32(gamma2 - 1));
  __m256i r1 = wide ? _mm256_srli_epi32(
                          _mm256_mullo_epi32(_mm256_srli_epi32(x, 9), _mm256_set1_epi32(16401)), 24)
                    : _mm256_srli_epi32(
                          _mm256_mullo_epi32(_mm256_srli_epi32(x, 11), _mm256_set1_epi32(2819)), 18);
  __m256i r0 = _mm256_sub_epi32(v, _mm256_mullo_epi32(r1, _mm256_set1_epi32(2 * gamma2)));
  __m256i wrap = _mm256_cmpeq_epi32(r1, _mm256_set1_epi32((MLDSA_Q - 1) / (2 * gamma2)));
  *r1_out = _mm256_andnot_si256(wrap, r1);
  *r0_out = _mm256_add_epi32(r0, wrap); /* wrap is -1 where set */
}

void sg_mldsa_avx2_poly_highbits(int32_t a[MLDSA_N], int32_t gamma2)
{
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i r1, r0;
    decompose(load(a + j), gamma2, &r1, &r0);
    store(a + j, r1);
  }
}

int sg_mldsa_avx2_poly_lowbits_exceed(const int32_t a[MLDSA_N], int32_t gamma2, int32_t bound)
{
  __m256i bad = _mm256_setzero_si256();
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i r1, r0;
    decompose(load(a + j), gamma2, &r1, &r0);
    bad = _mm256_or_si256(bad, at_least(r0, bound));
  }
  return !_mm256_testz_si256(bad, bad);
}

unsigned sg_mldsa_avx2_poly_make_hint(uint8_t h[MLDSA_N], const int32_t r[MLDSA_N],
                                      const int32_t ct0[MLDSA_N], int32_t gamma2)
{
  const __m256i q = _mm256_set1_epi32(MLDSA_Q), qm1 = _mm256_set1_epi32(MLDSA_Q - 1);
  __m256i count = _mm256_setzero_si256();
  uint32_t total;
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i v = load(r + j), s, hi_r, hi_s, lo, diff;
    uint32_t bits;
    s = add_q_if_negative(_mm256_add_epi32(v, load(ct0 + j)));
    s = _mm256_sub_epi32(s, _mm256_and_si256(_mm256_cmpgt_epi32(s, qm1), q));
    decompose(v, gamma2, &hi_r, &lo);
    decompose(s, gamma2, &hi_s, &lo);
    diff = _mm256_andnot_si256(_mm256_cmpeq_epi32(hi_r, hi_s), _mm256_set1_epi32(1));
    count = _mm256_add_epi32(count, diff);
    bits = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(diff, 31)));
    for (int i = 0; i < 8; i++)
      h[j + i] = (uint8_t)((bits >> i) & 1);
  }
  {
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, count);
    total = 0;
    for (int i = 0; i < 8; i++)
      total += (uint32_t)lanes[i];
  }
  return total;
}

void sg_mldsa_avx2_poly_use_hint(int32_t a[MLDSA_N], const uint8_t h[MLDSA_N], int32_t gamma2)
{
  const __m256i top = _mm256_set1_epi32((MLDSA_Q - 1) / (2 * gamma2));
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  const __m256i two = _mm256_set1_epi32(2);
  for (unsigned j = 0; j < MLDSA_N; j += 8) {
    __m256i r1, r0, hint, step, v;
    decompose(load(a + j), gamma2, &r1, &r0);
    hint = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(h + j)));
    /* +1 where r0 > 0, -1 otherwise, and 0 where the hint is not set. */
    step = _mm256_sub_epi32(_mm256_and_si256(_mm256_cmpgt_epi32(r0, zero), two), one);
    step = _mm256_sign_epi32(step, hint);
    v = _mm256_add_epi32(r1, step);
    v = _mm256_add_epi32(v, _mm256_and_si256(_mm256_srai_epi32(v, 31), top));
    v = _mm256_sub_epi32(v, _mm256_and_si256(_mm256_cmpeq_epi32(v, top), top));
    store(a + j, v);
  }
}

/*
 * BitUnpack for the z / y widths (18 or 20 bits): each group of eight coefficients
 * (18 or 20 bytes) is read as two 16-byte loads that stay inside the group; a byte
 * shuffle gives every 32-bit lane the three bytes holding its coefficient, and a
 * per-lane shift and mask extract it. Then c = hi - v, as in encode.c.
 */
void sg_mldsa_avx2_unpack_wide(int32_t c[MLDSA_N], const uint8_t *in, unsigned bits,
                               int32_t hi)
{
  const __m256i take18 = _mm256_setr_epi8(0, 1, 2, -1, 2, 3, 4, -1, 4, 5, 6, -1, 6, 7, 8, -1,
                                          7, 8, 9, -1, 9, 10, 11, -1, 11, 12, 13, -1, 13, 14, 15, -1);
  const __m256i take20 = _mm256_setr_epi8(0, 1, 2, -1, 2, 3, 4, -1, 5, 6, 7, -1, 7, 8, 9, -1,
                                          6, 7, 8, -1, 8, 9, 10, -1, 11, 12, 13, -1, 13, 14, 15, -1);
  const __m256i shift18 = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const __m256i shift20 = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
  int wide = bits == 20;
  __m256i take = wide ? take20 : take18, shift = wide ? shift20 : shift18;
  __m256i mask = _mm256_set1_epi32((1 << bits) - 1), top = _mm256_set1_epi32(hi);
  size_t group = bits, second = wide ? 4 : 2; /* bytes per 8 coefficients; high-half offset */

  for (unsigned j = 0; j < MLDSA_N; j += 8, in += group) {
    __m128i lo = _mm_loadu_si128((const __m128i *)in);
    __m128i up = _mm_loadu_si128((const __m128i *)(in + second));
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), up, 1);
    v = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(v, take), shift), mask);
    _mm256_storeu_si256((__m256i *)(c + j), _mm256_sub_epi32(top, v));
  }
}
