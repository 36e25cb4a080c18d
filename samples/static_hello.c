/* Built statically: agenttrace must refuse to record it, since LD_PRELOAD cannot reach it. */
#include <stdio.h>
#include <time.h>

int main(void)
{
	printf("%lld\n", (long long)time(NULL));
	return 0;
}
